// The grid map: boundaries coloured by level, named where the name fits; a click shows the grid's
// card. Opens on the user's community or scope (static/js/gz_map.js); works with no tile server.
(function () {
  const T = window.GZ_I18N;
  const el = document.getElementById("map");
  const gz = window.gzMap.setup(el);
  const map = gz.map;
  const colours = { community: "#b91c1c", area: "#d97706", micro: "#2563eb" };
  let layer = null, refreshLabels = null;
  const card = document.getElementById("grid-card");
  const esc = window.gzEscape;

  async function showCard(code) {
    card.innerHTML = "<p>" + T.loading + "</p>";
    const r = await fetch("/api/v1/grids/" + encodeURIComponent(code), { credentials: "same-origin" });
    if (!r.ok) { card.innerHTML = "<p class='error'>" + T.failed + "</p>"; return; }
    const g = await r.json();
    const staff = g.staff.length ? g.staff.map((s) => `<li data-testid="staff"><b>${esc(s.title_label)}</b> ${esc(s.name)} ${esc(s.phone)}</li>`).join("") : `<li>${T.none}</li>`;
    const units = g.member_units.length ? g.member_units.map((u) => `<li>${esc(u.name)}</li>`).join("") : `<li>${T.none}</li>`;
    const parents = g.parents.map((p) => esc(p.name)).join(" ‹ ");
    card.innerHTML = `<h2 data-testid="grid-name">${esc(g.name)}</h2>
      <p>${T.code}: <code data-testid="grid-code">${esc(g.code)}</code> · ${T.level}: ${esc(g.level_label)}</p>
      <p class="muted">${T.parents}: ${parents}</p>
      <h3>${T.staff}</h3><ul>${staff}</ul><h3>${T.units}</h3><ul>${units}</ul>`;
  }

  async function load(level) {
    document.getElementById("count").textContent = T.loading;
    const r = await fetch("/api/v1/grids.geojson?level=" + level);
    if (!r.ok) { document.getElementById("count").textContent = T.failed; return; }
    const fc = await r.json();
    if (layer) layer.remove();
    layer = L.geoJSON(fc, {
      style: (f) => ({ color: colours[f.properties.level] || "#555", weight: 1, fillOpacity: 0.12 }),
      onEachFeature: (f, lyr) => {
        lyr.on("click", () => showCard(f.properties.code));
      },
    }).addTo(map);
    if (refreshLabels) map.off("zoomend moveend", refreshLabels);
    refreshLabels = gz.labelShapes(layer, (f) => f.properties.name, "gz-grid");
    document.getElementById("count").textContent = fc.features.length + " " + T.grids;
    if (fc.features.length && !gz.home && el.dataset.opened === "default") map.fitBounds(layer.getBounds());
    el.dataset.ready = "1";
    window.gzGridLayer = layer;
  }
  window.gzShowGrid = showCard;
  document.getElementById("level").addEventListener("change", (e) => load(e.target.value));
  load("micro");
})();

// The appeal form's map: a click, a place found by the search box (or the browser's location) sets
// the hidden lon/lat fields and shows which micro grid the point falls in. The map itself (tiles,
// where it opens, labels, search) is static/js/gz_map.js, shared by every map.
(function () {
  const T = window.GZ_I18N;
  const el = document.getElementById("pick-map");
  const lonField = document.getElementById("id_lon");
  const latField = document.getElementById("id_lat");
  const status = document.getElementById("pick-status");
  const chosen = lonField.value && latField.value ? [parseFloat(latField.value), parseFloat(lonField.value)] : null;
  const gz = window.gzMap.setup(el, { fitTo: chosen, onPlace: (p) => pick(p.lat, p.lon) });
  const map = gz.map;
  let marker = null;
  let seq = 0;

  function say(text, ok) {
    status.textContent = text;
    status.className = "pick-status " + (ok ? "ok" : "error");
  }

  async function pick(lat, lon) {
    lon = Math.round(lon * 1e6) / 1e6;
    lat = Math.round(lat * 1e6) / 1e6;
    lonField.value = lon;
    latField.value = lat;
    if (marker) marker.setLatLng([lat, lon]); else marker = L.marker([lat, lon]).addTo(map);
    const mine = ++seq;
    say(T.checking, true);
    try {
      const r = await fetch("/api/v1/grids/locate?lon=" + lon + "&lat=" + lat);
      if (mine !== seq) return;  // a later click won
      if (r.ok) {
        const g = await r.json();
        say(T.picked + g.name + "（" + g.community.name + "）", true);
      } else {
        say(r.status === 404 ? T.outside : T.failed, false);
      }
    } catch (e) {
      if (mine === seq) say(T.failed, false);
    }
  }

  map.on("click", (e) => pick(e.latlng.lat, e.latlng.lng));

  document.getElementById("use-my-location").addEventListener("click", () => {
    if (!navigator.geolocation) { say(T.noGeo, false); return; }
    say(T.locating, true);
    navigator.geolocation.getCurrentPosition(
      (pos) => { map.setView([pos.coords.latitude, pos.coords.longitude], 17); pick(pos.coords.latitude, pos.coords.longitude); },
      () => say(T.noGeo, false),
      { enableHighAccuracy: true, timeout: 10000 }
    );
  });

  // Outlines and names of the micro grids, so people see where appeals can be placed. Clicks pass through.
  fetch("/api/v1/grids.geojson?level=micro").then((r) => (r.ok ? r.json() : null)).then((fc) => {
    if (!fc) return;
    const layer = L.geoJSON(fc, { interactive: false, style: { color: "#2563eb", weight: 1, fillOpacity: 0.05 } }).addTo(map);
    gz.labelShapes(layer, (f) => f.properties.name, "gz-grid");
    if (chosen) pick(chosen[0], chosen[1]);
    el.dataset.ready = "1";
  });
  window.gzAppealMap = map;
})();

// Photo previews with the server's limits checked early (the server checks again, by the bytes);
// the "use my location" hint on plain HTTP; and one submit per tap.
(function () {
  const T = window.GZ_I18N, MAX = 5 * 1024 * 1024, COUNT = 9, TYPES = ["image/jpeg", "image/png", "image/webp"];
  const input = document.querySelector("#appeal-form input[name=photos]");
  const box = document.getElementById("photo-previews"), problems = document.getElementById("photo-problems");
  if (input) input.addEventListener("change", () => {
    box.replaceChildren();
    const out = [];
    const files = Array.from(input.files || []);
    // Photos kept from an earlier try (staged on the server) count toward the same limit.
    const kept = document.querySelectorAll("[data-testid=staged-photo] input[name=unstage]:not(:checked)").length;
    if (files.length + kept > COUNT) out.push(T.tooMany);
    files.forEach((f) => {
      if (TYPES.indexOf(f.type) < 0) { out.push("「" + f.name + "」" + T.notImage); return; }
      if (f.size > MAX) { out.push("「" + f.name + "」" + T.tooLarge); return; }
      const fig = document.createElement("figure"), img = document.createElement("img"), cap = document.createElement("figcaption");
      img.src = URL.createObjectURL(f); img.alt = f.name; img.onload = () => URL.revokeObjectURL(img.src);
      cap.textContent = f.name + " · " + (f.size / 1024 / 1024).toFixed(1) + " MB";
      fig.append(img, cap); box.append(fig);
    });
    problems.textContent = out.join(" ");
    problems.hidden = !out.length;
  });
  // A kept photo marked for removal is dimmed; the server drops it on the next submit.
  document.querySelectorAll("[data-testid=staged-photo] input[name=unstage]").forEach((box) => {
    box.addEventListener("change", () => box.closest("figure").classList.toggle("removing", box.checked));
  });
  if (!window.isSecureContext) document.getElementById("geo-insecure").hidden = false;
  const form = document.getElementById("appeal-form");
  form.addEventListener("submit", () => {
    // The idempotency key already makes a repeat harmless; this only spares the second request.
    setTimeout(() => form.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = true; }), 0);
  });
})();

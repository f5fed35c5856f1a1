// The public appeals map: each appeal at its micro grid's centre (never the reported point); several
// appeals in one grid share one marker whose popup lists them. Every text is escaped (gzEscape).
(function () {
  const el = document.getElementById("public-map");
  if (!el || !window.L) return;
  const esc = window.gzEscape;
  const many = document.getElementById("public-points");
  const one = document.getElementById("public-point");
  const points = many ? JSON.parse(many.textContent) : one ? [JSON.parse(one.textContent)] : [];
  const map = L.map(el, { scrollWheelZoom: false }).setView([22.82, 108.33], 12);
  window.gzMap.tiles(map, el);  // the configured tiles and their attribution (static/js/gz_map.js)
  const grids = document.getElementById("public-grids");
  const outlines = L.featureGroup().addTo(map);
  if (grids) {
    JSON.parse(grids.textContent).forEach((g) => {
      L.geoJSON(g.geometry, { interactive: true, style: { color: "#2563eb", weight: 1, fillOpacity: 0.05 } })
        .bindTooltip(esc(g.name)).addTo(outlines);  // Leaflet sets a string as HTML
    });
  }
  const groups = new Map();
  points.forEach((p) => {
    const key = p.lat + "," + p.lon;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(p);
  });
  const markers = [];
  groups.forEach((list) => {
    const p = list[0];
    const m = L.circleMarker([p.lat, p.lon], { radius: 8 + Math.min(list.length, 8), color: "#b91c1c", weight: 2, fillOpacity: 0.35 });
    const html = list.map((a) => `<div><a href="${esc(a.url)}">${esc(a.number)}</a> ${esc(a.title)} <small>${esc(a.state_label)}</small></div>`).join("");
    m.bindPopup(html, { maxWidth: 260 });
    m.addTo(map);
    markers.push(m);
  });
  if (markers.length === 1 && outlines.getLayers().length) map.fitBounds(outlines.getBounds(), { maxZoom: 17 });
  else if (markers.length === 1) map.setView(markers[0].getLatLng(), parseInt(el.dataset.zoom || "15", 10));
  else if (markers.length > 1) map.fitBounds(L.featureGroup(markers).getBounds(), { padding: [20, 20], maxZoom: 16 });
  el.dataset.markers = String(markers.length);
  window.gzPublicMap = { map: map, markers: markers };
})();

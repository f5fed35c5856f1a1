// The appeal's point on a small map (staff and the reporter see the exact point).
(function () {
  const el = document.getElementById("point-map");
  if (!el || !window.L) return;
  const lat = parseFloat(el.dataset.lat), lon = parseFloat(el.dataset.lon);
  if (!isFinite(lat) || !isFinite(lon)) { el.remove(); return; }
  const map = L.map(el, { scrollWheelZoom: false }).setView([lat, lon], 16);
  window.gzMap.tiles(map, el);  // the configured tiles and their attribution (static/js/gz_map.js)
  const geom = document.getElementById("grid-geometry");
  if (geom) {
    const outline = L.geoJSON(JSON.parse(geom.textContent), { interactive: false, style: { color: "#2563eb", weight: 1, fillOpacity: 0.05 } }).addTo(map);
    map.fitBounds(outline.getBounds(), { maxZoom: 17 });
  }
  L.marker([lat, lon]).addTo(map);
})();

// The landmark form's map: a click, or a place found by the search box, sets the hidden lon/lat.
(function () {
  const el = document.getElementById("landmark-map");
  if (!el) return;
  const lon = document.getElementById("id_lon"), lat = document.getElementById("id_lat");
  const said = document.getElementById("landmark-point");
  const chosen = lon.value && lat.value ? [parseFloat(lat.value), parseFloat(lon.value)] : null;
  const gz = window.gzMap.setup(el, { fitTo: chosen, onPlace: (p) => set(p.lat, p.lon) });
  let marker = null;
  function set(y, x) {
    x = Math.round(x * 1e7) / 1e7; y = Math.round(y * 1e7) / 1e7;
    lon.value = x; lat.value = y;
    if (marker) marker.setLatLng([y, x]); else marker = L.marker([y, x]).addTo(gz.map);
    said.textContent = "✓ " + y.toFixed(6) + ", " + x.toFixed(6);
  }
  if (chosen) set(chosen[0], chosen[1]);
  gz.map.on("click", (e) => set(e.latlng.lat, e.latlng.lng));
  fetch("/api/v1/grids.geojson?level=micro").then((r) => (r.ok ? r.json() : null)).then((fc) => {
    if (fc) gz.labelShapes(L.geoJSON(fc, { interactive: false, style: { color: "#2563eb", weight: 1, fillOpacity: 0.05 } }).addTo(gz.map),
      (f) => f.properties.name, "gz-grid");
    el.dataset.ready = "1";
  });
})();

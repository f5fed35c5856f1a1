// Leaflet's own words in the page's language: the zoom buttons are named "Zoom in" / "Zoom out" by
// default, which a screen reader reads out on a Chinese page. Loaded right after leaflet.js (see
// templates/_leaflet.html, which gives the translated names), before any map is made.
(function () {
  var words = document.currentScript && document.currentScript.dataset;
  if (!window.L || !words) return;
  L.Control.Zoom.prototype.options.zoomInTitle = words.zoomIn;
  L.Control.Zoom.prototype.options.zoomOutTitle = words.zoomOut;
})();

// One escape for every user-supplied string our scripts put into HTML (Leaflet tooltips, ECharts
// tooltips, the grid card): names come from imported files and forms and are never markup.
// Loaded first on every page (base.html), so page scripts can rely on window.gzEscape.
window.gzEscape = function (s) {
  return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
    return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
  });
};

// The header's drop-down groups: one open at a time; a click elsewhere or Escape closes them.
(function () {
  var groups = document.querySelectorAll("header nav details.navgroup");
  function closeAll(except) {
    groups.forEach(function (d) { if (d !== except) d.removeAttribute("open"); });
  }
  groups.forEach(function (d) {
    d.addEventListener("toggle", function () { if (d.open) closeAll(d); });
  });
  document.addEventListener("click", function (e) {
    if (!e.target.closest("header nav details.navgroup")) closeAll(null);
  });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") closeAll(null); });
})();

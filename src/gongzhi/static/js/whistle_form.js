// The whistle form: "add a row" adds a blank department row (the first row as the page came, its
// choice cleared, its default deadlines kept) and turns its select into a picker (picker.js).
(function () {
  var add = document.getElementById("add-summons-row"), box = document.getElementById("summons-rows");
  if (!add || !box) return;
  // Taken now, before picker.js wraps the selects: a clean row to copy.
  var blank = box.querySelector(".summons-row").cloneNode(true), select = blank.querySelector("select");
  Array.prototype.slice.call(select.options).forEach(function (o) { if (o.value) o.remove(); });
  select.value = "";
  add.addEventListener("click", function () {
    var copy = blank.cloneNode(true), sel = copy.querySelector("select");
    box.appendChild(copy);
    var picker = window.gzPicker ? window.gzPicker(sel) : null;
    if (picker) picker.focus(); else sel.focus();
  });
})();

// The whistle form: "add a row" copies the last department row with its choice cleared.
(function () {
  var add = document.getElementById("add-summons-row"), box = document.getElementById("summons-rows");
  if (!add || !box) return;
  add.addEventListener("click", function () {
    var rows = box.querySelectorAll(".summons-row"), copy = rows[rows.length - 1].cloneNode(true);
    copy.querySelector("select").value = "";
    box.appendChild(copy);
    copy.querySelector("select").focus();
  });
})();

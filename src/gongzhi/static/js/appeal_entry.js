// Assisted sources (hotline, visit) ask for the resident; patrol and the other staff sources hide it.
(function () {
  const box = document.querySelector("[data-testid=source-choice]");
  const assisted = (box.dataset.assisted || "").split(" ");
  const fields = document.getElementById("assisted-fields");
  function sync() {
    const picked = box.querySelector("input[name=source]:checked");
    const on = !picked || assisted.indexOf(picked.value) >= 0;
    fields.hidden = !on;
    fields.disabled = !on;
    document.getElementById("source-hint-assisted").hidden = !on;
    document.getElementById("source-hint-staff").hidden = on;
  }
  box.addEventListener("change", sync);
  sync();
})();

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

// The address field: a place chosen in the map's search box (which also sets the location) fills it
// with the place's name and where it is, unless the caller's own words were typed there already.
(function () {
  const address = document.getElementById("id_address");
  const search = document.querySelector("select[data-place-search]");
  if (!address || !search) return;
  let filled = "";
  search.addEventListener("place:chosen", (e) => {
    if (address.value.trim() && address.value !== filled) return;
    const p = e.detail;
    filled = p.label + (p.detail ? "（" + p.detail.split(" · ").slice(1).join(" · ") + "）" : "");
    address.value = filled.slice(0, 200);
  });
})();

// Buttons marked data-print print the page (an inline onclick would be blocked by the CSP).
document.addEventListener("click", function (event) {
  if (event.target.closest && event.target.closest("[data-print]")) window.print();
});

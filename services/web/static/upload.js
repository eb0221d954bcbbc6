// File Upload: when the collection changes, the file input's accept list and the hint beside it
// follow, from the option's data attributes (the server renders both for the collection shown
// first, from the same words).
(function () {
  "use strict";
  var select = document.getElementById("collection");
  var input = document.getElementById("file");
  var hint = document.getElementById("accepts");
  if (!select || !input || !hint) { return; }
  function follow() {
    var option = select.options[select.selectedIndex];
    if (!option) { return; }
    input.setAttribute("accept", option.getAttribute("data-accept") || "");
    hint.textContent = option.getAttribute("data-hint") || "";
  }
  select.addEventListener("change", follow);
})();

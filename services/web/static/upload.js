// File Upload: when the collection changes, the file input's accept list and the hint beside it
// follow (both are also rendered by the server for the collection shown first).
(function () {
  "use strict";
  var select = document.getElementById("collection");
  var input = document.getElementById("file");
  var hint = document.getElementById("accepts");
  if (!select || !input || !hint) { return; }
  function follow() {
    var option = select.options[select.selectedIndex];
    if (!option) { return; }
    var accept = option.getAttribute("data-accept") || "";
    input.setAttribute("accept", accept);
    hint.textContent = option.value + " files: " + (option.getAttribute("data-framing") || "") +
      "; names ending " + accept.split(",").join(", ") + ".";
  }
  select.addEventListener("change", follow);
})();

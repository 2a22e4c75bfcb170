// The query editor: mark the query box invalid while the live check shows an error (htmx swaps the
// check in). Works without it: the server renders the same check when the form is sent.
(function () {
  "use strict";

  function sync() {
    var box = document.getElementById("query-text");
    var check = document.getElementById("query-check");
    if (!box || !check) { return; }
    if (check.querySelector("[data-query-error]")) {
      box.setAttribute("aria-invalid", "true");
    } else {
      box.removeAttribute("aria-invalid");
    }
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "query-check") { sync(); }
  });
  document.addEventListener("DOMContentLoaded", sync);
})();

// Small progressive enhancements; every form works without JavaScript too.
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      target.form.requestSubmit();
    }
  });

  function setLive(connected) {
    var status = document.getElementById("live-status");
    if (!status) { return; }
    status.textContent = connected ? status.dataset.connected : status.dataset.disconnected;
    status.classList.toggle("connected", connected);
  }

  document.addEventListener("htmx:sseOpen", function () { setLive(true); });
  document.addEventListener("htmx:sseError", function () { setLive(false); });
})();

// The composer and the media library: small enhancements; every form works without JavaScript too.
// The live check itself is htmx (hx-post on the composer's form); nothing here talks to the server.
(function () {
  "use strict";

  document.documentElement.classList.add("has-js");

  // --- Saving a post that is in review, approved or scheduled sends it back to draft: ask first ---
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) { return; }
    var button = event.submitter;
    if (button && button.hasAttribute("data-no-confirm")) { return; }
    if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
  });

  // --- Images of a post: a ticked image goes last; an unticked one loses its number -------------
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.hasAttribute("data-media-pick")) { return; }
    var tile = box.closest(".media-tile");
    var order = tile ? tile.querySelector("input[data-media-order]") : null;
    if (!order) { return; }
    if (!box.checked) { order.value = ""; return; }
    if (order.value) { return; }
    var highest = 0;
    document.querySelectorAll(".media-tile").forEach(function (other) {
      var picked = other.querySelector("input[data-media-pick]");
      var number = other.querySelector("input[data-media-order]");
      if (picked && picked.checked && number && number !== order) {
        highest = Math.max(highest, parseInt(number.value || "0", 10) || 0);
      }
    });
    order.value = String(Math.min(highest + 1, 99));
  });

  // --- Focal point: click on the image; the crops follow ----------------------------------------
  // The same arithmetic as publishing/imaging/renditions.py's crop_box: the largest box of the
  // placement's shape, centred on the point and pushed back inside the image.
  function centred(focus, length, bound) {
    return Math.min(Math.max(Math.round(focus - length / 2), 0), bound - length);
  }

  function cropPosition(width, height, aspect, fx, fy) {
    if (width >= height * aspect) {
      var boxWidth = Math.min(width, Math.max(1, Math.round(height * aspect)));
      var left = centred(fx * width, boxWidth, width);
      return [width > boxWidth ? Math.round(100 * left / (width - boxWidth)) : 50, 50];
    }
    var boxHeight = Math.min(height, Math.max(1, Math.round(width / aspect)));
    var top = centred(fy * height, boxHeight, height);
    return [50, height > boxHeight ? Math.round(100 * top / (height - boxHeight)) : 50];
  }

  function clamp(value) {
    var number = parseFloat(value);
    if (!isFinite(number)) { return 0.5; }
    return Math.min(Math.max(number, 0), 1);
  }

  function showFocus(card, fx, fy) {
    var marker = card.querySelector("[data-focal-marker]");
    if (marker) {
      marker.style.setProperty("--fx", (fx * 100).toFixed(1) + "%");
      marker.style.setProperty("--fy", (fy * 100).toFixed(1) + "%");
    }
    var width = parseInt(card.dataset.width, 10);
    var height = parseInt(card.dataset.height, 10);
    if (!(width > 0 && height > 0)) { return; }
    card.querySelectorAll("img[data-aspect]").forEach(function (img) {
      var position = cropPosition(width, height, parseFloat(img.dataset.aspect), fx, fy);
      img.style.setProperty("--fx", position[0] + "%");
      img.style.setProperty("--fy", position[1] + "%");
    });
  }

  document.addEventListener("click", function (event) {
    var img = event.target;
    if (!(img instanceof HTMLImageElement) || !img.parentElement || !img.parentElement.hasAttribute("data-focal-picker")) { return; }
    var card = img.closest("[data-focal-card]");
    var form = card ? card.querySelector("form[data-focal-form]") : null;
    if (!form) { return; }
    var box = img.getBoundingClientRect();
    if (!box.width || !box.height) { return; }
    var fx = clamp((event.clientX - box.left) / box.width);
    var fy = clamp((event.clientY - box.top) / box.height);
    var x = form.querySelector("input[data-focal=x]");
    var y = form.querySelector("input[data-focal=y]");
    if (x) { x.value = fx.toFixed(3); }
    if (y) { y.value = fy.toFixed(3); }
    showFocus(card, fx, fy);
  });

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.hasAttribute("data-focal")) { return; }
    var card = input.closest("[data-focal-card]");
    var form = input.form;
    if (!card || !form) { return; }
    var x = form.querySelector("input[data-focal=x]");
    var y = form.querySelector("input[data-focal=y]");
    showFocus(card, clamp(x ? x.value : 0.5), clamp(y ? y.value : 0.5));
  });
})();

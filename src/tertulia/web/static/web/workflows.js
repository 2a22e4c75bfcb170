// Approval workflow editor (Settings → Publishing): add steps, move them up and down.
// Without JavaScript the form still works: one empty step to fill in, positions typed by hand.
(function () {
  "use strict";

  function rows(form) {
    return Array.prototype.slice.call(form.querySelectorAll("[data-steps] > [data-step]"));
  }

  // Positions follow the order on the page; the numbers shown too.
  function renumber(form) {
    rows(form).forEach(function (row, index) {
      var order = row.querySelector("input[data-step-order]");
      var number = row.querySelector("[data-step-number]");
      if (order) { order.value = String(index + 1); }
      if (number) { number.textContent = String(index + 1); }
      var up = row.querySelector("[data-move=up]");
      var down = row.querySelector("[data-move=down]");
      if (up) { up.disabled = index === 0; }
      if (down) { down.disabled = index === rows(form).length - 1; }
    });
  }

  function showButtons(scope) {
    scope.querySelectorAll("[data-move], [data-add-step]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function addStep(form) {
    var template = form.querySelector("template[data-empty-step]");
    var total = form.querySelector("input[name$='-TOTAL_FORMS']");
    var list = form.querySelector("[data-steps]");
    if (!template || !total || !list) { return; }
    var count = parseInt(total.value, 10) || 0;
    var max = parseInt(form.dataset.maxRows, 10) || 15;
    if (count >= max) { return; }
    var holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(count));
    var row = holder.querySelector("[data-step]");
    if (!row) { return; }
    list.appendChild(row);
    total.value = String(count + 1);
    showButtons(row);
    renumber(form);
    var name = row.querySelector("input[type=text]");
    if (name) { name.focus(); }
    if (count + 1 >= max) {
      var add = form.querySelector("[data-add-step]");
      if (add) { add.disabled = true; }
    }
  }

  function move(form, row, direction) {
    var list = row.parentElement;
    if (!list) { return; }
    if (direction === "up" && row.previousElementSibling) {
      list.insertBefore(row, row.previousElementSibling);
    } else if (direction === "down" && row.nextElementSibling) {
      list.insertBefore(row.nextElementSibling, row);
    }
    renumber(form);
    var same = row.querySelector("[data-move=" + direction + "]");
    if (same && !same.disabled) { same.focus(); }
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLElement)) { return; }
    var button = target.closest("button");
    var form = button ? button.closest("form[data-workflow-form]") : null;
    if (!button || !form) { return; }
    if (button.hasAttribute("data-add-step")) {
      event.preventDefault();
      addStep(form);
    } else if (button.hasAttribute("data-move")) {
      event.preventDefault();
      var row = button.closest("[data-step]");
      if (row) { move(form, row, button.getAttribute("data-move")); }
    }
  });

  function init() {
    document.querySelectorAll("form[data-workflow-form]").forEach(function (form) {
      showButtons(form);
      var help = form.querySelector("[data-no-js-help]");
      if (help) { help.hidden = true; }
      renumber(form);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

// Publish → Calendar: drag a post's chip to another day (or hour, by week) to move it.
// Without JavaScript (or without a mouse) each chip's Move form does the same; this script only
// fills that form in and sends it. The server decides: on a refusal the chip goes back and its
// message is read out. Times are wall-clock times in the brand's time zone, as the page says.
(function () {
  "use strict";

  var root = document.getElementById("calendar");
  if (!root) { return; }
  var status = document.getElementById("cal-status");
  var dragged = null;

  // Tell people whose device is in another time zone that the calendar is not in theirs.
  var note = document.getElementById("cal-browser-zone");
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (note && zone && zone !== root.dataset.zone && note.dataset.text) {
      note.textContent = note.dataset.text.replace("%(zone)s", zone);
      note.hidden = false;
    }
  } catch (ignored) { /* an old browser: the page already names the brand's zone */ }

  function say(text, isError) {
    if (!status) { return; }
    status.textContent = text || "";
    status.classList.toggle("error", !!isError);
  }

  function pad(number) {
    return (number < 10 ? "0" : "") + String(number);
  }

  function chipOf(target) {
    return target instanceof Element ? target.closest(".cal-chip[draggable=true]") : null;
  }

  function cellOf(target) {
    return target instanceof Element ? target.closest("[data-drop-date]") : null;
  }

  function clearOver() {
    root.querySelectorAll(".drop-over").forEach(function (cell) { cell.classList.remove("drop-over"); });
  }

  // The wall-clock time the chip lands on: the cell's day, its hour by week, the chip's minutes.
  function landing(chip, cell) {
    var time = chip.dataset.time || "09:00";
    if (cell.dataset.dropHour !== undefined) {
      time = pad(parseInt(cell.dataset.dropHour, 10)) + time.slice(2);
    }
    return cell.dataset.dropDate + "T" + time;
  }

  function place(chip, cell) {
    var list = cell.querySelector("ul.cal-chips");
    if (list) { list.appendChild(chip); }
  }

  function move(chip, cell) {
    var form = chip.querySelector("form[data-move-form]");
    if (!form || !form.elements.when) { return; }
    var input = form.elements.when;
    var value = landing(chip, cell);
    if (value === input.value) { return; }
    var home = chip.parentNode;
    var after = chip.nextSibling;
    var before = input.value;
    input.value = value;
    place(chip, cell);
    chip.classList.add("saving");
    say(root.dataset.moving);

    function putBack(messages) {
      input.value = before;
      if (home) { home.insertBefore(chip, after); }
      chip.classList.remove("saving");
      say(messages && messages.length ? messages.join(" ") : root.dataset.error, true);
    }

    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (data) {
        return { ok: response.ok && data && data.ok, data: data || {} };
      }, function () {
        return { ok: false, data: {} };
      });
    }).then(function (result) {
      if (!result.ok) {
        putBack(result.data.messages);
        return;
      }
      var data = result.data;
      chip.classList.remove("saving");
      chip.dataset.time = data.time;
      input.value = data.local;
      var label = chip.querySelector("[data-chip-time]");
      if (label) {
        label.textContent = data.time;
        label.setAttribute("datetime", data.when);
      }
      // The clocks may have moved it (a time they skip): show it where it really is.
      var selector = root.dataset.view === "week"
        ? "[data-date='" + data.date + "'][data-hour='" + String(data.hour) + "']"
        : "[data-date='" + data.date + "']";
      var real = root.querySelector(selector);
      if (real && real !== cell) { place(chip, real); }
      say(data.message, false);
    }).catch(function () {
      putBack(null);
    });
  }

  root.addEventListener("dragstart", function (event) {
    var chip = chipOf(event.target);
    if (!chip || !event.dataTransfer) { return; }
    dragged = chip;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", chip.dataset.post || "");
    chip.classList.add("dragging");
  });

  root.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("dragging"); }
    dragged = null;
    clearOver();
  });

  root.addEventListener("dragover", function (event) {
    if (!dragged) { return; }
    var cell = cellOf(event.target);
    if (!cell) { return; }  // past days: no drop
    event.preventDefault();
    if (event.dataTransfer) { event.dataTransfer.dropEffect = "move"; }
    if (!cell.classList.contains("drop-over")) {
      clearOver();
      cell.classList.add("drop-over");
    }
  });

  root.addEventListener("dragleave", function (event) {
    var cell = cellOf(event.target);
    if (cell && !cell.contains(event.relatedTarget)) { cell.classList.remove("drop-over"); }
  });

  root.addEventListener("drop", function (event) {
    var cell = cellOf(event.target);
    var chip = dragged;
    clearOver();
    if (!cell || !chip) { return; }
    event.preventDefault();
    move(chip, cell);
  });
})();

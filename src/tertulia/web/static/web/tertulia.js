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

  // --- Inbox list: a live refresh must not undo a selection in progress -----------------------
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.id === "conversation-list" && elt.querySelector("input.pick:checked")) {
      event.preventDefault();
    }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.hasAttribute("data-pick-all")) {
      document.querySelectorAll("#conversation-rows input.pick").forEach(function (box) {
        box.checked = target.checked;
      });
    }
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-saved-reply")) {
      var option = target.selectedOptions[0];
      var box = document.getElementById("reply-text");
      if (option && option.dataset.text && box) {
        box.value = box.value ? box.value + "\n" + option.dataset.text : option.dataset.text;
        box.focus();
      }
      target.value = "";
    }
  });

  // --- After a reply or a note was taken: empty the box, and a new key for the next reply -----
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!(form instanceof HTMLFormElement) || !event.detail.successful) { return; }
    if (form.hasAttribute("data-reply-form") || form.hasAttribute("data-reset-on-success")) {
      if (event.detail.xhr.getResponseHeader("X-Tertulia-Refused")) { return; }  // keep the text
      form.reset();
      var key = form.querySelector("input[name=idempotency_key]");
      if (key) { key.value = (window.crypto && crypto.randomUUID) ? crypto.randomUUID().replace(/-/g, "") : String(Date.now()); }
      typingUntil = 0;
    }
  });

  // --- Presence: "I have this conversation open / I am typing", and who else has ------------
  var typingUntil = 0;
  var heartbeat = null;
  var current = null;

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function announce(state) {
    if (!current || !window.htmx) { return; }
    htmx.ajax("POST", current.dataset.presenceUrl, {
      target: "#presence", swap: "innerHTML", values: { state: state }, headers: { "X-CSRFToken": csrfToken() }
    });
  }

  function leave() {
    if (!current) { return; }
    var data = new FormData();
    data.append("state", "left");
    data.append("csrfmiddlewaretoken", csrfToken());
    navigator.sendBeacon(current.dataset.presenceUrl, data);
  }

  function watchConversation() {
    var article = document.querySelector("article[data-presence-url]");
    if (article === current) { return; }
    if (current) { leave(); }
    if (heartbeat) { clearInterval(heartbeat); heartbeat = null; }
    current = article;
    if (!current) { return; }
    var seconds = parseInt(current.dataset.heartbeat || "15", 10);
    heartbeat = setInterval(function () {
      if (!document.body.contains(current)) { current = null; clearInterval(heartbeat); return; }
      announce(Date.now() < typingUntil ? "typing" : "viewing");
    }, seconds * 1000);
  }

  document.addEventListener("input", function (event) {
    if (event.target instanceof HTMLTextAreaElement && event.target.id === "reply-text") {
      var wasTyping = Date.now() < typingUntil;
      typingUntil = Date.now() + 8000;
      if (!wasTyping) { announce("typing"); }
    }
  });
  document.addEventListener("htmx:afterSettle", watchConversation);
  document.addEventListener("DOMContentLoaded", watchConversation);
  window.addEventListener("pagehide", leave);

  // --- Keyboard shortcuts (see the ? dialog) -------------------------------------------------
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#conversation-rows [data-row]")); }

  function move(step) {
    var list = rows();
    if (!list.length) { return; }
    var at = list.findIndex(function (row) { return row.classList.contains("selected"); });
    var next = Math.min(Math.max(at + step, 0), list.length - 1);
    list.forEach(function (row) { row.classList.remove("selected"); });
    list[next].classList.add("selected");
    var link = list[next].querySelector("a.conv-link");
    if (link) { link.focus(); }
  }

  function clickShortcut(key) {
    var button = document.querySelector("#conversation-live [data-shortcut='" + key + "']");
    if (button) { button.click(); return true; }
    return false;
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement ||
      target instanceof HTMLSelectElement || (target instanceof HTMLElement && target.isContentEditable);
    if (event.key === "Escape" && typing) { target.blur(); return; }
    if (typing && event.key === "Enter" && (event.ctrlKey || event.metaKey) && target.id === "reply-text") {
      event.preventDefault();
      target.form.requestSubmit();
      return;
    }
    if (typing || event.altKey || event.ctrlKey || event.metaKey) { return; }
    var focus = function (id) { var el = document.getElementById(id); if (el) { event.preventDefault(); el.focus(); } };
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "o": {
        var selected = document.querySelector("#conversation-rows .selected a.conv-link");
        if (selected) { selected.click(); }
        break;
      }
      case "x": {
        var box = document.querySelector("#conversation-rows .selected input.pick");
        if (box) { box.checked = !box.checked; }
        break;
      }
      case "/": focus("id_q"); break;
      case "r": focus("reply-text"); break;
      case "n": focus("note-text"); break;
      case "a": case "p": case "e": clickShortcut(event.key); break;
      case "?": {
        var help = document.getElementById("shortcuts-help");
        if (help) { if (help.open) { help.close(); } else { help.showModal(); } }
        break;
      }
      default: return;
    }
  });
})();

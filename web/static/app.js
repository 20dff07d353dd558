// astreinte: live updates of the tickets list (server-sent events). No
// framework, no build: the list's rows are fetched again as HTML and
// swapped in place when a ticket changes.
"use strict";
(function () {
  var list = document.getElementById("tickets");
  var ticket = document.getElementById("ticket");
  if (!list && !ticket || !window.EventSource) return;
  var es = new EventSource("/events");
  var pending = false;
  // A button was pressed: its page comes next, no reload may cancel it.
  var submitting = false;
  document.addEventListener("submit", function () { submitting = true; });
  // The page says whether it is live (the header shows a dot).
  es.onopen = function () {
    // Back after a cut: what changed meanwhile was not heard.
    if (document.body.dataset.live === "off" && list) refreshList();
    document.body.dataset.live = "on";
  };
  es.onerror = function () { document.body.dataset.live = "off"; };
  function refreshList() {
    if (pending) return;
    pending = true;
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("tickets");
        if (!fresh) return;
        var known = {};
        list.querySelectorAll("li[data-number]").forEach(function (li) { known[li.dataset.number] = true; });
        fresh.querySelectorAll("li[data-number]").forEach(function (li) {
          if (!known[li.dataset.number]) li.classList.add("fresh");
        });
        list.replaceChildren.apply(list, Array.prototype.slice.call(fresh.childNodes));
      })
      .catch(function () {})
      .finally(function () { pending = false; });
  }
  es.addEventListener("ticket", function (ev) {
    var d = {};
    try { d = JSON.parse(ev.data); } catch (e) { return; }
    if (list) { refreshList(); return; }
    if (ticket && d.number === ticket.dataset.number && !submitting) {
      var typing = Array.prototype.some.call(document.querySelectorAll("textarea,input[type=text]"), function (el) { return el.value !== ""; });
      var audio = document.getElementById("recording");
      if (!typing && (!audio || audio.paused)) location.reload();
    }
  });
})();

// xtreamd admin panel: the little the pages need beyond HTML, no build step, no framework.
// Each behaviour hangs off a data- attribute; without this file every page still works
// (forms post, links navigate), only without confirmations and live refresh.
(function () {
  "use strict";

  // The navigation's menu button (phone width).
  document.addEventListener("click", function (ev) {
    var t = ev.target.closest("[data-nav-toggle]");
    if (!t) return;
    var open = document.body.classList.toggle("nav-open");
    t.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // Forms that ask first: <form data-confirm="Ban 3 lines?">. A submit button's own
  // data-confirm wins over its form's.
  document.addEventListener("submit", function (ev) {
    var f = ev.target, b = ev.submitter;
    var msg = (b && b.getAttribute("data-confirm")) || f.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) ev.preventDefault();
  });

  // A checkbox that ticks every checkbox named as its data-select-all says.
  document.addEventListener("change", function (ev) {
    var t = ev.target, name = t.getAttribute && t.getAttribute("data-select-all");
    if (!name) return;
    document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (c) { c.checked = t.checked; });
  });

  // Copy buttons: <button data-copy="id-of-element">.
  document.addEventListener("click", function (ev) {
    var t = ev.target.closest("[data-copy]");
    if (!t || !navigator.clipboard) return;
    var el = document.getElementById(t.getAttribute("data-copy"));
    if (el) navigator.clipboard.writeText(el.textContent).then(function () { t.textContent = "Copied"; });
  });

  // Live parts: <tbody data-refresh="/admin/connections/rows?…" data-interval="5"> is replaced
  // by a fresh copy of itself every few seconds while the page is visible. The server renders
  // and escapes the rows; the fixed table layout keeps the page still.
  function refresh(el) {
    if (document.hidden || el.dataset.busy) return;
    el.dataset.busy = "1";
    fetch(el.getAttribute("data-refresh"), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) {
        if (r.status === 401) { window.location.reload(); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html === null) return;
        var keep = {};
        el.querySelectorAll("input[type=checkbox]:checked").forEach(function (c) { keep[c.value] = true; });
        el.innerHTML = html;
        el.querySelectorAll("input[type=checkbox]").forEach(function (c) { if (keep[c.value]) c.checked = true; });
        // A part that has reached its end (an import done) says so: no more refreshes.
        if (el.querySelector("[data-final]")) el.removeAttribute("data-refresh");
        var stamp = document.getElementById(el.getAttribute("data-stamp") || "");
        if (stamp) stamp.textContent = "Updated " + new Date().toLocaleTimeString();
      })
      .catch(function () {})
      .finally(function () { delete el.dataset.busy; });
  }
  document.querySelectorAll("[data-refresh]").forEach(function (el) {
    var every = Math.max(2, parseInt(el.getAttribute("data-interval") || "5", 10)) * 1000;
    var timer = window.setInterval(function () {
      if (!el.hasAttribute("data-refresh")) { window.clearInterval(timer); return; }
      refresh(el);
    }, every);
  });
})();

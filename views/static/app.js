// linkpack page script: the copy button, and ticking the link's expiry
// countdown (and, when no tick arrives, the clock) against the SERVER's time.
// The server's time comes from `data-now` (page render and every clock event).
(function () {
  "use strict";
  var offset = 0; // server time minus this browser's time, in ms
  var seen = null; // the data-now value last synced from
  var syncedAt = 0; // local time of the last sync

  function pad(n) { return String(n).padStart(2, "0"); }
  function clockTime(ms) { return new Date(ms).toISOString().slice(11, 19) + " UTC"; }
  function countdown(ms) {
    if (ms <= 0) return "expired";
    var s = Math.ceil(ms / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return h ? h + ":" + pad(m) + ":" + pad(s % 60) : m + ":" + pad(s % 60);
  }
  function duration(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + "s";
    var m = Math.floor(s / 60);
    return m < 60 ? m + "m " + pad(s % 60) + "s" : Math.floor(m / 60) + "h " + pad(m % 60) + "m";
  }

  function sync() {
    var t = document.querySelector("time[data-now]") || document.body;
    var v = t.getAttribute("data-now");
    if (v && v !== seen) { seen = v; offset = Number(v) - Date.now(); syncedAt = Date.now(); }
  }

  function tick() {
    sync();
    var now = Date.now() + offset;
    document.querySelectorAll("[data-until]").forEach(function (el) {
      el.textContent = countdown(Number(el.getAttribute("data-until")) - now);
    });
    // Between server ticks the server renders the clock; if none came lately
    // (finished job, no connection) keep it moving from the last known offset.
    if (Date.now() - syncedAt > 1500) {
      document.querySelectorAll("time[data-now]").forEach(function (el) { el.textContent = clockTime(now); });
      document.querySelectorAll("[data-since]").forEach(function (el) {
        el.textContent = duration(now - Number(el.getAttribute("data-since")));
      });
    }
  }
  setInterval(tick, 250);
  document.addEventListener("DOMContentLoaded", tick);

  document.addEventListener("click", function (e) {
    var btn = e.target instanceof Element ? e.target.closest("[data-copy]") : null;
    if (!btn) return;
    var input = document.getElementById(btn.getAttribute("data-copy"));
    if (!input) return;
    var status = document.querySelector(".copy-status");
    function done(ok) {
      btn.textContent = ok ? "Copied" : "Press Ctrl+C";
      if (status) status.textContent = ok ? "Link copied to the clipboard." : "Copy the selected link.";
      setTimeout(function () { btn.textContent = "Copy link"; }, 2000);
    }
    input.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(function () { done(true); }, function () { done(document.execCommand("copy")); });
    } else {
      done(document.execCommand("copy"));
    }
  });
})();

// Live badge and the polling fallback for pages that stream over a websocket.
// The htmx ws extension reconnects by itself (with back-off); while it cannot,
// the volume page polls its live fragment so the picture still moves.
(function () {
  "use strict";
  var failures = 0;
  var poller = null;

  function badge(text, state) {
    var el = document.getElementById("live-badge");
    if (el) { el.textContent = text; el.dataset.state = state; }
  }

  function stillMoving() {
    var live = document.getElementById("volume-live");
    return live && live.dataset.transitional === "true";
  }

  function startPolling() {
    var watch = document.getElementById("volume-watch");
    if (poller || !watch || !watch.dataset.pollUrl) { return; }
    badge("○ polling (live updates unavailable)", "polling");
    poller = setInterval(function () {
      htmx.ajax("GET", watch.dataset.pollUrl, {target: "#volume-live", swap: "outerHTML"});
      if (!stillMoving()) { stopPolling(); badge("✓ finished", "done"); }
    }, 2000);
  }

  function stopPolling() {
    if (poller) { clearInterval(poller); poller = null; }
  }

  document.addEventListener("htmx:wsOpen", function () {
    failures = 0; stopPolling(); badge("● live", "live");
  });
  document.addEventListener("htmx:wsClose", function () {
    failures += 1;
    badge("◌ reconnecting…", "reconnecting");
    if (failures >= 3) { startPolling(); }
  });
  document.addEventListener("htmx:wsError", function () { failures += 1; });
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.WebSocket) { startPolling(); }
  });
})();

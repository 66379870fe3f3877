// The create form's limit bars (templates/volumes/_quota_bars.html).
// The server draws in use and reserved (and pushes a fresh picture over the
// websocket whenever usage changes); this script adds the request being typed
// as a third segment, colours each bar with the server's thresholds, and
// disables the submit button while the request cannot fit.
(function () {
  "use strict";
  if (window.cinderlabQuotaBars) { return; }
  window.cinderlabQuotaBars = true;
  var EXCEEDED = " (Quota exceeded)";
  var poller = null;

  function percent(part, whole) {
    return whole > 0 ? Math.min(100, 100 * part / whole) : 0;
  }

  function stateOf(limit, total, warningAt, dangerAt) {
    if (limit < 0) { return "ok"; }
    if (total > limit) { return "exceeded"; }
    var share = limit ? total / limit : 1;
    if (share >= dangerAt) { return "danger"; }
    return share >= warningAt ? "warning" : "ok";
  }

  function redraw() {
    var form = document.getElementById("create-volume");
    var panel = document.getElementById("quota-bars");
    if (!form || !panel) { return; }
    var sizeInput = form.elements.namedItem("size");
    var typeInput = form.elements.namedItem("volume_type");
    var size = sizeInput ? parseInt(sizeInput.value, 10) : 0;
    if (!(size > 0)) { size = 0; }
    var type = typeInput ? typeInput.value : "";
    var warningAt = parseFloat(panel.dataset.warningAt);
    var dangerAt = parseFloat(panel.dataset.dangerAt);
    var fits = true;
    panel.querySelectorAll("[data-quota-bar]").forEach(function (bar) {
      var applies = !bar.dataset.volumeType || bar.dataset.volumeType === type;
      var limit = Number(bar.dataset.limit);
      var inUse = Number(bar.dataset.inUse);
      var reserved = Number(bar.dataset.reserved);
      var requested = applies && size > 0 ? (bar.dataset.kind === "gigabytes" ? size : 1) : 0;
      var state = stateOf(limit, inUse + reserved + requested, warningAt, dangerAt);
      var used = percent(inUse, limit);
      var held = Math.min(percent(reserved, limit), 100 - used);
      var asked = Math.max(0, Math.min(percent(requested, limit), 100 - used - held));
      bar.hidden = !applies;
      bar.dataset.state = state;
      bar.querySelector("[data-requested]").textContent = requested;
      bar.querySelector("[data-seg-requested]").style.width = asked + "%";
      var over = limit < 0 ? 0 : inUse + reserved + requested - limit;
      bar.querySelector("[data-over]").textContent = over > 0 ? " · " + over + " over the limit" : "";
      if (applies && state === "exceeded") { fits = false; }
    });
    var perVolume = Number(panel.dataset.perVolumeLimit);
    if (perVolume >= 0 && size > perVolume) { fits = false; }
    var button = document.getElementById("create-submit");
    if (button) {
      if (!button.dataset.label) { button.dataset.label = button.textContent.trim(); }
      button.disabled = !fits;
      button.textContent = button.dataset.label + (fits ? "" : EXCEEDED);
    }
  }

  // Without the websocket, fetch the same fragment every few seconds instead.
  function startPolling() {
    var watch = document.getElementById("quota-watch");
    if (poller || !watch) { return; }
    poller = setInterval(function () {
      htmx.ajax("GET", watch.dataset.barsUrl, {target: "#quota-bars", swap: "outerHTML"});
    }, 3000);
  }

  function fromQuotaWatch(event) {
    return event.target && event.target.id === "quota-watch";
  }

  document.addEventListener("input", function (event) {
    if (event.target.form && event.target.form.id === "create-volume") { redraw(); }
  });
  document.addEventListener("change", function (event) {
    if (event.target.form && event.target.form.id === "create-volume") { redraw(); }
  });
  ["htmx:wsAfterMessage", "htmx:oobAfterSwap", "htmx:afterSwap"].forEach(function (name) {
    document.addEventListener(name, redraw);
  });
  document.addEventListener("htmx:wsOpen", function (event) {
    if (fromQuotaWatch(event) && poller) { clearInterval(poller); poller = null; }
  });
  document.addEventListener("htmx:wsClose", function (event) {
    if (fromQuotaWatch(event)) { startPolling(); }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", redraw);
  } else {
    redraw();
  }
})();

// Cinderlab's live pages: websocket badge, polling fallback, keeping what the
// user opened open across updates, and replaying a finished volume's flows.
//
// Every websocket message carries the whole picture as sections swapped by id
// (htmx ws extension, out-of-band swaps). Sections identical to the last ones
// received are not touched at all; changed ones are replaced, and any task the
// user had expanded is expanded again before the browser paints.
(function () {
  "use strict";

  // The icon tables come from the server (templatetags/cinderlab.py), so they are written once.
  var ICONS = JSON.parse(document.getElementById("state-icons").textContent);
  var STATE_ICONS = ICONS.states;
  var STATUS_ICONS = ICONS.statuses;
  var POLL_MS = 2000;
  var RESYNC_MS = 15000;   // no message for this long while moving: fetch the picture once
  var APP_CLOSE = 4000;    // 4000-4999: the server refused us; do not retry

  var failures = 0;
  var poller = null;
  var lastMessageAt = Date.now();
  var lastHtml = {};       // section id -> the HTML last swapped in over the socket
  var expanded = {};       // ids of <details data-keep-open> the user opened

  function badge(text, state) {
    var el = document.getElementById("live-badge");
    if (el) { el.textContent = text; el.dataset.state = state; }
  }

  function watchElement() {
    return document.getElementById("volume-watch") || document.getElementById("dashboard-watch")
      || document.getElementById("volume-list-watch");
  }

  function stillMoving() {
    var facts = document.getElementById("volume-facts");
    return !!facts && facts.dataset.transitional === "true";
  }

  // -- keep expanded tasks expanded -----------------------------------------
  document.addEventListener("toggle", function (event) {
    var el = event.target;
    if (!el.dataset || !el.dataset.keepOpen) { return; }
    if (el.open) { expanded[el.dataset.keepOpen] = true; } else { delete expanded[el.dataset.keepOpen]; }
  }, true);

  function restoreExpanded() {
    Object.keys(expanded).forEach(function (key) {
      var el = document.querySelector('details[data-keep-open="' + CSS.escape(key) + '"]');
      if (el && !el.open) { el.open = true; }
    });
  }

  // Skip sections that did not change: no DOM churn, nothing collapses.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var d = event.detail;
    var fragment = d.fragment;
    if (!fragment || !fragment.id) { return; }
    var html = fragment.outerHTML;
    if (lastHtml[fragment.id] === html && document.getElementById(fragment.id)) {
      d.shouldSwap = false;
    } else {
      lastHtml[fragment.id] = html;
    }
  });
  document.addEventListener("htmx:oobAfterSwap", restoreExpanded);

  // Forms in live sections are rendered without a request (over the socket): they get
  // the page's CSRF token when submitted.
  document.addEventListener("submit", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    event.target.querySelectorAll("input[data-csrf]").forEach(function (input) {
      if (meta && !input.value) { input.value = meta.content; }
    });
  }, true);

  // "Volume x is being extended": said while it happens, gone once the volume settles.
  function dropSettledFlashes() {
    var facts = document.getElementById("volume-facts");
    if (facts && facts.dataset.transitional === "false") {
      document.querySelectorAll(".flash[data-transient]").forEach(function (el) { el.remove(); });
    }
  }

  document.addEventListener("htmx:wsAfterMessage", function () {
    lastMessageAt = Date.now();
    dropSettledFlashes();
    restoreExpanded();
    if (replay.at !== null) { replay.reapply(); }
  });
  document.addEventListener("htmx:afterSwap", function () {
    lastHtml = {};  // a polled picture replaced the sections: compare afresh
    restoreExpanded();
  });

  // -- polling fallback ------------------------------------------------------
  function pollOnce() {
    var watch = document.getElementById("volume-watch");
    if (!watch || !watch.dataset.pollUrl) { return; }
    htmx.ajax("GET", watch.dataset.pollUrl, {target: "#volume-live", swap: "outerHTML"});
  }

  function startPolling() {
    var watch = document.getElementById("volume-watch");
    if (poller || !watch || !watch.dataset.pollUrl) { return; }
    badge("○ polling (live updates unavailable)", "polling");
    pollOnce();
    poller = setInterval(function () {
      if (!stillMoving()) { stopPolling(); badge("✓ finished (polled)", "done"); return; }
      pollOnce();
    }, POLL_MS);
  }

  function stopPolling() {
    if (poller) { clearInterval(poller); poller = null; }
  }

  document.addEventListener("htmx:wsOpen", function () {
    failures = 0; stopPolling(); lastHtml = {}; badge("● live", "live");
  });
  document.addEventListener("htmx:wsClose", function (event) {
    var code = event.detail && event.detail.event ? event.detail.event.code : 0;
    failures += 1;
    if (code >= APP_CLOSE && code < 5000) {
      badge("⊘ not allowed to watch this", "refused");
      return;
    }
    badge("◌ reconnecting…", "reconnecting");
    // htmx reconnects by itself after abnormal closes; after a clean close
    // (a server restart says "going away") ask it to, after a pause.
    if ([1006, 1011, 1012, 1013].indexOf(code) < 0 && event.detail && event.detail.socketWrapper) {
      var wrapper = event.detail.socketWrapper;
      setTimeout(function () { if (wrapper.reconnect) { wrapper.reconnect(); } }, 1000 + Math.random() * 1000);
    }
    if (failures >= 3) { startPolling(); }
  });
  document.addEventListener("htmx:wsError", function () { failures += 1; });

  // A safety net under the socket: if nothing arrived for a while although the
  // volume is still moving, fetch the picture once.
  setInterval(function () {
    if (!poller && stillMoving() && Date.now() - lastMessageAt > RESYNC_MS) {
      lastMessageAt = Date.now();
      pollOnce();
    }
  }, RESYNC_MS / 3);

  if (!window.WebSocket) {
    // No websockets at all: do not let htmx try; poll from the start.
    var watch = watchElement();
    if (watch) { watch.removeAttribute("ws-connect"); watch.removeAttribute("hx-ext"); }
    document.addEventListener("DOMContentLoaded", startPolling);
  }

  // -- replay ------------------------------------------------------------------
  function setTaskState(el, state) {
    if (el.classList.contains("task")) {
      el.dataset.state = state;
      el.className = "task state-" + state;
      var icon = el.querySelector(":scope > details > summary .icon");
      var text = el.querySelector(":scope > details > summary .state-text");
      if (icon) { icon.textContent = STATE_ICONS[state] || "?"; }
      if (text) { text.textContent = state.replace("_", " "); }
    } else if (el.classList.contains("attempt")) {
      el.dataset.runState = state;
      var label = el.querySelector(".run-state");
      if (label) {
        label.className = "run-state state-" + state;
        label.textContent = (STATE_ICONS[state] || "?") + " " + state.replace("_", " ");
      }
    }
  }

  function setStatus(status) {
    var el = document.querySelector("#volume-facts [data-volume-status]");
    if (!el) { return; }
    el.dataset.volumeStatus = status;
    el.className = "status status-" + status;
    el.textContent = (STATUS_ICONS[status] || "•") + " " + status;
  }

  // The replay is a cursor over the stored transitions: the picture at time t is every
  // event up to t applied over "pending". Playing moves the cursor (at speeds below real
  // time too), stepping jumps to the next event, the scrubber sets it directly. History
  // entries and scheduler traces carry their time (data-at-ms) and follow the cursor.
  var replay = {
    running: false,
    timers: [],
    frame: null,
    at: null,        // the cursor, in ms from the first event; null when not replaying
    speed: 1,
    applied: {},
    data: function () {
      var el = document.getElementById("replay-data");
      return el ? JSON.parse(el.textContent) : null;
    },
    clock: function (text, state) {
      var el = document.getElementById("replay-clock");
      if (el) { el.textContent = text; el.dataset.replayState = state; }
    },
    buttons: function (active) {
      document.querySelectorAll("[data-replay-stop]").forEach(function (b) { b.hidden = !active; });
    },
    cursor: function (atMs, data) {
      var gantt = document.querySelector(".gantt");
      if (!gantt) { return; }
      var start = parseFloat(gantt.dataset.ganttStartMs), span = parseFloat(gantt.dataset.ganttSpanMs);
      gantt.querySelectorAll(".gantt-cursor").forEach(function (c) {
        if (atMs === null) { c.hidden = true; return; }
        var left = 100 * (data.start_ms + atMs - start) / span;
        c.hidden = false;
        c.style.left = Math.max(0, Math.min(100, left)) + "%";
      });
    },
    apply: function (id, state) {
      this.applied[id] = state;
      var el = document.getElementById(id);
      if (el) { setTaskState(el, state); }
    },
    reapply: function () {  // a live update replaced elements mid-replay: put the replay back
      var self = this;
      Object.keys(this.applied).forEach(function (id) { self.apply(id, self.applied[id]); });
      if (this.at !== null) { this.show(this.at); }
    },
    render: function (atMs) {  // the whole picture at atMs, at once (step, scrub)
      var data = this.data();
      if (!data) { return; }
      var self = this, latest = {};
      data.events.forEach(function (e) { if (!(e.id in latest)) { latest[e.id] = "pending"; } });
      data.events.forEach(function (e) { if (e.t <= atMs) { latest[e.id] = e.state; } });
      Object.keys(latest).forEach(function (id) { self.apply(id, latest[id]); });
      this.show(atMs);
    },
    show: function (atMs) {  // everything but the tasks: status, clock, cursor, history
      var data = this.data();
      this.at = atMs;
      setStatus(atMs >= data.duration_ms ? data.status : "creating");
      var now = data.start_ms + atMs;
      document.querySelectorAll("[data-at-ms]").forEach(function (el) {
        el.hidden = parseFloat(el.dataset.atMs) > now + 0.5;
      });
      var scrub = document.getElementById("replay-scrub");
      if (scrub) { scrub.value = Math.round(atMs); }
      this.cursor(atMs, data);
      document.body.dataset.replaying = "true";
      this.buttons(true);
      this.clock((atMs / 1000).toFixed(3) + " s" + (this.running ? " at " + this.speed + "×" : " (paused)"),
                 this.running ? "playing" : "paused");
    },
    pause: function () {
      this.running = false;
      this.timers.forEach(clearTimeout);
      this.timers = [];
      if (this.frame) { cancelAnimationFrame(this.frame); this.frame = null; }
    },
    stop: function () {
      this.pause();
      var data = this.data();
      if (data) { this.render(data.duration_ms); }
      this.at = null;
      this.applied = {};
      delete document.body.dataset.replaying;
      document.querySelectorAll("[data-at-ms]").forEach(function (el) { el.hidden = false; });
      this.cursor(null, data);
      this.buttons(false);
      this.clock("replay finished", "done");
    },
    play: function (speed) {
      // Each transition gets its own timer, so every state a task went through is shown,
      // however close together they were; the clock and the rest follow by frame.
      var data = this.data();
      if (!data) { return; }
      this.pause();
      var self = this;
      var from = (this.at === null || this.at >= data.duration_ms) ? 0 : this.at;
      this.speed = speed;
      this.running = true;
      this.render(from);
      data.events.forEach(function (e) {
        if (e.t <= from) { return; }
        self.timers.push(setTimeout(function () { self.apply(e.id, e.state); }, (e.t - from) / speed));
      });
      this.timers.push(setTimeout(function () { self.stop(); }, (data.duration_ms - from) / speed + 50));
      var began = performance.now();
      var tick = function () {
        if (!self.running) { return; }
        self.show(Math.min(from + (performance.now() - began) * speed, data.duration_ms));
        self.frame = requestAnimationFrame(tick);
      };
      this.frame = requestAnimationFrame(tick);
    },
    step: function () {
      var data = this.data();
      if (!data) { return; }
      this.pause();
      var at = this.at === null ? -1 : this.at;
      var next = data.events.find(function (e) { return e.t > at; });
      this.render(next ? next.t : data.duration_ms);
    },
    scrub: function (atMs) {
      this.pause();
      this.render(atMs);
    }
  };
  window.cinderlabReplay = replay;

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-replay-speed], [data-replay-stop], [data-replay-step]");
    if (!button) { return; }
    if (button.hasAttribute("data-replay-stop")) { replay.stop(); return; }
    if (button.hasAttribute("data-replay-step")) { replay.step(); return; }
    replay.play(parseFloat(button.dataset.replaySpeed));
  });
  document.addEventListener("input", function (event) {
    if (event.target.id === "replay-scrub") { replay.scrub(parseFloat(event.target.value)); }
  });
})();

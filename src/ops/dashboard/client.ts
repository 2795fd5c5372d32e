// The dashboard's script, sent inline with the page as is (no build step, nothing external). It
// polls the JSON API (api.ts) and renders with textContent-safe escaping; it never writes markup
// it did not escape, except the SVG timelines, which the server builds from escaped text.
// Written without template literals so it can sit in String.raw below.
export const CLIENT_JS = String.raw`
"use strict";
(function () {
  var POLL_MS = Number(new URLSearchParams(location.search).get("interval")) || 2000;
  var $ = function (id) { return document.getElementById(id); };
  var ENT = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  var esc = function (s) { return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) { return ENT[c]; }); };
  var last = { active: "", schedules: "", services: "", runs: "" };
  /** Up to this many services, every service's timeline is drawn; beyond, each opens from its row. */
  var INLINE_SERVICES = 12;
  var open = new Set();
  var polls = 0;

  function ago(iso, now) {
    if (!iso) return "";
    var s = Math.round((now - Date.parse(iso)) / 1000);
    var a = Math.abs(s);
    var t = a < 120 ? a + "s" : a < 7200 ? Math.round(a / 60) + "m" : a < 172800 ? Math.round(a / 3600) + "h" : Math.round(a / 86400) + "d";
    return s >= 0 ? t + " ago" : "in " + t;
  }
  function time(iso, now) {
    return iso ? '<time datetime="' + esc(iso) + '" title="' + esc(iso) + '">' + esc(ago(iso, now)) + "</time>" : "";
  }
  function commit(src) {
    return src ? '<code title="' + esc(src.commit + " " + src.path) + '">' + esc(src.commit.slice(0, 12)) + "</code> " + esc(src.path) : "";
  }
  function badge(text, kind) { return '<span class="badge ' + kind + '">' + esc(text) + "</span>"; }

  function renderTotals(o) {
    var t = o.totals;
    var fig = function (v, label) { return "<li><b>" + esc(v) + "</b>" + esc(label) + "</li>"; };
    $("totals").innerHTML = fig(t.active, "active injections") + fig(t.schedules, "schedules") + fig(t.runs, "runs recorded") +
      fig(t.verdicts.Pass, "verdict Pass") + fig(t.verdicts.Fail, "verdict Fail") + fig(t.aborts, "aborted") + fig(t.halted, "halted");
  }

  function renderActive(o, now) {
    var rows = o.active.map(function (a) {
      return '<tr class="active-row" data-schedule="' + esc(a.schedule) + '" data-fault="' + esc(a.fault) + '"><th scope="row">' + esc(a.schedule) +
        "</th><td>" + esc(a.fault) + "</td><td>" + esc(a.service) + "</td><td><code>" + esc((a.task || "").slice(0, 12)) + "</code></td><td>" +
        esc(a.node) + "</td><td>" + time(a.since, now) + "</td><td>" + time(a.until, now) + "</td><td>" + commit(a.source) + "</td></tr>";
    });
    $("active-body").innerHTML = rows.join("");
    $("active-empty").hidden = rows.length > 0;
    $("active-table").hidden = rows.length === 0;
    $("active-count").textContent = o.active.length === 1 ? "1 injection active" : o.active.length + " injections active";
  }

  function trendText(s) {
    if (!s.recoveryTrend.length) return "";
    var v = s.recoveryTrend.slice(-5).map(function (x) { return x + "s"; }).join(" → ");
    return esc(v) + (s.trend !== "unknown" ? " " + badge(s.trend, "trend-" + s.trend) : "");
  }

  function renderSchedules(o, now) {
    var body = $("schedules-body");
    body.innerHTML = o.schedules.map(function (s) {
      var phase = esc(s.phase) + (s.halted ? " " + badge("Halted", "fail") : "") + (s.suspended ? " " + badge("suspended", "muted") : "");
      var verdict = s.lastVerdict ? badge(s.lastVerdict, s.lastVerdict === "Pass" ? "pass" : "fail") : "";
      return '<tr class="schedule-row" data-key="' + esc(s.key) + '"><th scope="row">' + esc(s.key) + "</th><td>" + esc(s.fault) +
        "</td><td>" + phase + "</td><td>" + time(s.nextRun, now) + "</td><td>" + esc(s.lastResult || "") + "</td><td>" + verdict +
        "</td><td>" + (s.score == null ? "" : esc(s.score)) + "</td><td>" + trendText(s) + "</td><td>" + esc(s.runs) +
        "</td><td>" + toggleButton("schedule", s.key) + "</td></tr>" + timelineRow("schedule", s.key, 10);
    }).join("");
    reopen(body);
  }

  function reopen(root) {
    open.forEach(function (id) {
      var b = root.querySelector('button[aria-controls="' + CSS.escape(id) + '"]');
      if (b) toggle(b, true);
    });
  }

  function toggle(button, show) {
    var id = button.getAttribute("aria-controls");
    var row = document.getElementById(id);
    var key = button.getAttribute("data-key");
    button.setAttribute("aria-expanded", String(show));
    row.hidden = !show;
    if (!show) { open.delete(id); return; }
    open.add(id);
    fetch("api/v1/timelines?" + button.getAttribute("data-kind") + "=" + encodeURIComponent(key), { cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (j) { row.firstChild.innerHTML = j.items && j.items.length ? j.items[0].svg : "No runs recorded."; })
      .catch(function () { row.firstChild.textContent = "Could not load the timeline."; });
  }

  function toggleButton(kind, key) {
    var id = "tl-" + kind + "-" + encodeURIComponent(key).replace(/%/g, "_");
    return '<button type="button" class="tl-toggle" aria-expanded="false" aria-controls="' + id + '" data-kind="' + kind + '" data-key="' +
      esc(key) + '">Timeline<span class="sr"> of ' + esc(key) + "</span></button>";
  }
  function timelineRow(kind, key, span) {
    return '<tr class="tl-row" id="tl-' + kind + "-" + encodeURIComponent(key).replace(/%/g, "_") + '" hidden><td colspan="' + span + '"></td></tr>';
  }

  function renderServices(o) {
    var inline = o.services.length <= INLINE_SERVICES;
    $("services-body").innerHTML = o.services.map(function (s) {
      var f = function (x) { return x == null ? "" : esc(x) + "s"; };
      return '<tr class="service-row" data-service="' + esc(s.service) + '"><th scope="row">' + esc(s.service) + "</th><td>" + esc(s.runs) +
        "</td><td>" + esc(s.recovered) + "</td><td>" + esc(s.timedOut) + "</td><td>" + f(s.p50) + "</td><td>" + f(s.p95) + "</td><td>" +
        f(s.max) + "</td><td>" + (inline ? "" : toggleButton("service", s.service)) + "</td></tr>" + (inline ? "" : timelineRow("service", s.service, 8));
    }).join("");
    reopen($("services-body"));
    $("service-timelines").hidden = !inline;
  }

  function renderServiceTimelines() {
    if ($("service-timelines").hidden) return Promise.resolve();
    return fetch("api/v1/timelines?by=service", { cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (j) {
        $("service-timelines").innerHTML = j.items.map(function (i) {
          return '<figure class="service-timeline" data-service="' + esc(i.key) + '"><figcaption>Service ' + esc(i.key) + " (" +
            esc(i.runs) + " runs)</figcaption>" + i.svg + "</figure>";
        }).join("") || "<p>No runs recorded.</p>";
      });
  }

  function refresh() {
    return fetch("api/v1/overview", { cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (o) {
        var now = Date.parse(o.generatedAt);
        renderTotals(o);
        var a = JSON.stringify(o.active);
        if (a !== last.active || polls % 15 === 0) { last.active = a; renderActive(o, now); }
        var s = JSON.stringify(o.schedules);
        if (s !== last.schedules) { last.schedules = s; renderSchedules(o, now); }
        var v = JSON.stringify(o.services);
        if (v !== last.services) { last.services = v; renderServices(o); }
        $("updated").textContent = "Updated " + new Date(now).toISOString().replace("T", " ").slice(0, 19) + " UTC";
        $("conn").textContent = "";
        // Timelines move when a run starts or ends, and a running bar grows: redrawn then, or every 5th poll.
        var sig = JSON.stringify(o.totals);
        var tl = sig !== last.runs || polls % 5 === 0 ? renderServiceTimelines() : null;
        last.runs = sig;
        return { timelines: tl };
      })
      .catch(function (e) { $("conn").textContent = "Cannot reach the controller (" + e.message + "); retrying."; });
  }

  document.querySelector("main").addEventListener("click", function (e) {
    var b = e.target.closest("button.tl-toggle");
    if (b) toggle(b, b.getAttribute("aria-expanded") !== "true");
  });
  $("filter").addEventListener("input", function () {
    var q = this.value.trim().toLowerCase();
    document.querySelectorAll("#schedules-body tr.schedule-row").forEach(function (tr) {
      tr.hidden = q !== "" && tr.getAttribute("data-key").toLowerCase().indexOf(q) < 0;
    });
  });

  function loop() {
    polls++;
    refresh().then(function (r) { return r && r.timelines; }).then(function () { setTimeout(loop, POLL_MS); }, function () { setTimeout(loop, POLL_MS); });
  }
  // First render: figures, active injections, services and schedules drawn ("dashboard-rendered");
  // the service timelines follow ("dashboard-complete").
  refresh().then(function (r) {
    performance.mark("dashboard-rendered");
    return (r && r.timelines) || null;
  }).then(function () {
    performance.mark("dashboard-complete");
    document.body.setAttribute("data-ready", "true");
    setTimeout(loop, POLL_MS);
  });
})();
`;

// The dashboard page: one HTML document with its CSS and script inline (nothing fetched from
// elsewhere), rendered by the browser from the JSON API.
import { legendHtml } from "../../insight/report.js";
import { CLIENT_JS } from "./client.js";

const CSS = `
:root{color-scheme:light}
body{font:14px/1.45 system-ui,sans-serif;color:#1f2328;background:#fff;margin:0}
header{background:#24292f;color:#fff;padding:.6rem 1rem;display:flex;gap:1rem;align-items:baseline;flex-wrap:wrap}
header h1{font-size:1.2rem;margin:0}header p{margin:0;color:#eaeef2}
main{padding:0 1rem 2rem;max-width:1400px}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
table{border-collapse:collapse;width:100%}caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border-bottom:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
thead th{background:#f6f8fa}tbody th{font-weight:500}
code{font:12px ui-monospace,monospace}
.figures{display:flex;flex-wrap:wrap;gap:.75rem;padding:0;list-style:none;margin:1rem 0}
.figures li{border:1px solid #d0d7de;border-radius:6px;padding:.4rem .7rem}
.figures b{display:block;font-size:1.3rem}
.badge{display:inline-block;border-radius:1em;padding:0 .5em;font-size:12px;border:1px solid currentColor}
.pass{color:#1a7f37}.fail{color:#cf222e}.muted{color:#57606a}
.trend-improving{color:#1a7f37}.trend-worsening{color:#cf222e}.trend-steady{color:#57606a}
button{font:inherit;padding:.15rem .5rem;border:1px solid #8c959f;border-radius:4px;background:#f6f8fa;color:#1f2328;cursor:pointer}
button:focus-visible,input:focus-visible{outline:3px solid #0860ca;outline-offset:1px}
input{font:inherit;padding:.2rem .4rem;border:1px solid #8c959f;border-radius:4px}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
#conn{color:#cf222e;font-weight:600}
figure{margin:.5rem 0}figcaption{font-weight:500}
.legend span{display:inline-block;margin-right:1rem}
.legend i{display:inline-block;width:.9rem;height:.9rem;margin-right:.3rem;vertical-align:-2px;border-radius:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:#fff;color:#1f2328;padding:.25rem}
`;

export function dashboardPage(title = "chaosctl"): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} dashboard</title><link rel="icon" href="data:,"><style>${CSS}</style></head>
<body><a class="skip" href="#main">Skip to content</a>
<header><h1>${title}: chaos dashboard</h1><p id="updated">Loading…</p><p role="status" aria-live="polite" id="active-count"></p><p role="alert" id="conn"></p></header>
<main id="main">
<ul class="figures" id="totals" aria-label="Figures"></ul>
<section aria-labelledby="h-active"><h2 id="h-active">Active injections</h2>
<p id="active-empty" hidden>No active injections.</p>
<table id="active-table" hidden><caption class="sr">What is injected in the cluster now</caption><thead><tr>
<th scope="col">Schedule</th><th scope="col">Fault</th><th scope="col">Service</th><th scope="col">Task</th><th scope="col">Node</th>
<th scope="col">Since</th><th scope="col">Until</th><th scope="col">Source commit</th></tr></thead><tbody id="active-body"></tbody></table>
</section>
<section aria-labelledby="h-services"><h2 id="h-services">Services: recovery and timeline</h2>
<table><caption class="sr">Time from the end of a fault until the service was back, per service</caption><thead><tr>
<th scope="col">Service</th><th scope="col">Runs</th><th scope="col">Recovered</th><th scope="col">Timed out</th>
<th scope="col">p50</th><th scope="col">p95</th><th scope="col">Max</th><th scope="col"><span class="sr">Timeline</span></th></tr></thead><tbody id="services-body"></tbody></table>
${legendHtml()}
<div id="service-timelines"></div>
</section>
<section aria-labelledby="h-schedules"><h2 id="h-schedules">Schedules</h2>
<p><label for="filter">Filter schedules by name </label><input id="filter" type="search" autocomplete="off"></p>
<table><caption class="sr">Every schedule: phase, next run, last verdict, resilience score, recovery trend</caption><thead><tr>
<th scope="col">Schedule</th><th scope="col">Fault</th><th scope="col">Phase</th><th scope="col">Next run</th><th scope="col">Last result</th>
<th scope="col">Last verdict</th><th scope="col">Score</th><th scope="col">Recovery trend</th><th scope="col">Runs</th><th scope="col"><span class="sr">Timeline</span></th>
</tr></thead><tbody id="schedules-body"></tbody></table>
</section>
</main>
<script>${CLIENT_JS}</script>
</body></html>
`;
}

import type { ConsoleSettings } from './console-settings.js';

/**
 * The console's HTML and style sheet. The HTML is the page's skeleton; the script (`page/main.ts`, built to
 * `/console/app/main.js`) logs in and fills it. Where to connect is written into <body>'s data attributes.
 */
export function consoleHtml(settings: ConsoleSettings): string {
  const data = `data-wamp-path="${escapeAttribute(settings.wampPath)}" data-realm="${escapeAttribute(settings.realm)}" data-authmethod="${settings.authmethod}"`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fox-wamp console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/console.css">
<script type="module" src="/console/app/main.js"></script>
</head>
<body ${data}>
<header class="top">
  <h1>fox-wamp <span>console</span></h1>
  <span id="whoami" class="muted"></span>
  <button id="logout" type="button" hidden>Log out</button>
</header>
<section id="login" class="card login">
  <h2>Log in</h2>
  <form id="login-form">
    <label>User <input name="authid" autocomplete="username" required></label>
    <label>Password <input name="secret" type="password" autocomplete="current-password" required></label>
    <button type="submit">Log in</button>
    <p id="login-error" class="error" role="alert"></p>
  </form>
</section>
<main id="dashboard" hidden>
  <p id="banner" class="error banner" role="alert" hidden></p>
  <section id="summary" class="summary"></section>
  <section id="charts" class="charts">
    <div class="card"><h2>Messages</h2><canvas id="chart-messages"></canvas></div>
    <div class="card"><h2>Publications, events, calls</h2><canvas id="chart-routing"></canvas></div>
    <div class="card"><h2>Wire bytes</h2><canvas id="chart-bytes"></canvas></div>
  </section>
  <p id="rates-off" class="muted" hidden>The server runs with --no-metrics: no rates.</p>
  <section class="card">
    <h2>Realms</h2>
    <table id="realms"><thead><tr><th>Realm</th><th>Sessions</th><th>Topics</th><th>Registrations</th><th>Retained keys</th><th>Publications/s</th><th>Events/s</th><th>Calls/s</th></tr></thead><tbody id="realms-body"></tbody></table>
  </section>
  <section class="card">
    <h2>Sessions <span id="sessions-count" class="count"></span></h2>
    <input id="sessions-filter" type="search" placeholder="Filter: realm, authid, address, topic…">
    <table id="sessions"><thead><tr><th>Realm</th><th>Session</th><th>Protocol</th><th>Who</th><th>Address</th><th>Subscriptions</th><th>Registrations</th><th>Calls out / in</th><th>Queue</th><th>Joined</th><th></th></tr></thead><tbody id="sessions-body"></tbody></table>
  </section>
  <section class="card">
    <h2>Topics <span id="topics-count" class="count"></span></h2>
    <table id="topics"><thead><tr><th>Realm</th><th>Topic</th><th>Match</th><th>Subscribers</th><th>Events/s</th><th>Share group · filter</th><th>Since</th></tr></thead><tbody id="topics-body"></tbody></table>
  </section>
  <section class="card">
    <h2>Registrations <span id="registrations-count" class="count"></span></h2>
    <table id="registrations"><thead><tr><th>Realm</th><th>Procedure</th><th>Match</th><th>Policy</th><th>Callees</th><th>Concurrency</th><th>In flight</th><th>Queued</th></tr></thead><tbody id="registrations-body"></tbody></table>
  </section>
  <section class="card">
    <h2>Retained <span id="retained-count" class="count"></span></h2>
    <form id="retained-form" class="inline">
      <select id="retained-realm" aria-label="Realm"></select>
      <input id="retained-filter" placeholder="#  ·  sensor.*.temp  ·  $SYS/#" aria-label="Topic filter">
      <button type="submit">Browse</button>
    </form>
    <table id="retained"><thead><tr><th>Topic</th><th>Value</th><th>Publisher</th><th>Updated</th><th>Will</th><th></th></tr></thead><tbody id="retained-body"></tbody></table>
    <pre id="retained-value" hidden></pre>
  </section>
</main>
</body>
</html>
`;
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

export const CONSOLE_CSS = `
:root { color-scheme: light; --border: #d0d7de; --muted: #57606a; --accent: #0969da; --danger: #cf222e; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #24292f; background: #f6f8fa; }
.top { display: flex; align-items: center; gap: 16px; padding: 10px 20px; background: #24292f; color: #fff; }
.top h1 { margin: 0; font-size: 18px; font-weight: 600; }
.top h1 span { font-weight: 400; opacity: 0.7; }
.top .muted { color: #c9d1d9; margin-left: auto; }
main, .login { padding: 16px 20px; }
.card { background: #fff; border: 1px solid var(--border); border-radius: 6px; padding: 12px 16px; margin-bottom: 16px; overflow-x: auto; }
.card h2 { margin: 0 0 8px; font-size: 15px; }
.login { max-width: 360px; margin: 40px auto; }
.login form { display: grid; gap: 10px; }
.login label { display: grid; gap: 4px; }
input, select, button { font: inherit; padding: 4px 8px; border: 1px solid var(--border); border-radius: 4px; background: #fff; }
button { cursor: pointer; background: #f3f4f6; }
button[type=submit] { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger { color: var(--danger); }
button.danger:hover { background: var(--danger); color: #fff; }
.error { color: var(--danger); margin: 0; }
.banner { background: #ffebe9; border: 1px solid #ff8182; border-radius: 6px; padding: 8px 12px; margin-bottom: 12px; }
.summary { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 12px; margin-bottom: 16px; }
.stat { background: #fff; border: 1px solid var(--border); border-radius: 6px; padding: 10px 14px; }
.stat-value { font-size: 22px; font-weight: 600; }
.stat-label { color: var(--muted); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 16px; }
.charts .card { margin-bottom: 0; }
canvas { display: block; width: 100%; height: 160px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #eaeef2; vertical-align: top; }
th { color: var(--muted); font-weight: 600; white-space: nowrap; }
td.num { text-align: right; white-space: nowrap; }
.mono, .chip { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.muted { color: var(--muted); font-size: 12px; }
.count { color: var(--muted); font-weight: 400; }
.chips { display: flex; flex-wrap: wrap; gap: 4px; max-width: 360px; }
.chip { background: #ddf4ff; border-radius: 10px; padding: 0 8px; }
.badge { margin-left: 6px; background: #fff8c5; border-radius: 10px; padding: 0 6px; font-size: 12px; }
tr.away td { opacity: 0.6; }
td.value { max-width: 420px; overflow-wrap: anywhere; }
td.actions { white-space: nowrap; }
#sessions-filter { width: 100%; max-width: 420px; margin-bottom: 8px; }
form.inline { display: flex; gap: 8px; margin-bottom: 8px; }
form.inline input { flex: 1; max-width: 420px; }
pre { background: #f6f8fa; border: 1px solid var(--border); border-radius: 6px; padding: 10px; overflow: auto; max-height: 360px; }
#rates-off { margin: 0 0 16px; }
`;

// The page shell: inline CSS, no external asset (the viewer works offline and loads nothing
// from anywhere), and the one small script (live reload) carrying the response's CSP nonce.
import { html, raw, type Html, type SafeHtml } from "./html.ts";

const CSS = `
:root{--fg:#1d1f23;--muted:#606670;--line:#d9dce1;--bg:#fff;--soft:#f4f5f7;--pass:#137333;--fail:#b3261e;--blocked:#8a5a00;--error:#6b3fa0;--sim:#7a4d00}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg);margin:0}
header.top{display:flex;gap:1.5em;align-items:center;padding:.6em 1.2em;border-bottom:1px solid var(--line);background:var(--soft)}
header.top a{color:var(--fg);text-decoration:none;font-weight:600}main{padding:1em 1.2em;max-width:1400px}
h1{font-size:1.35em;margin:.2em 0 .6em}h2{font-size:1.1em;margin:1.4em 0 .5em;border-bottom:1px solid var(--line);padding-bottom:.2em}h3{font-size:1em;margin:1em 0 .3em}
table{border-collapse:collapse;margin:.3em 0 1em}th,td{border:1px solid var(--line);padding:.25em .55em;text-align:left;vertical-align:top}th{background:var(--soft);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.status{display:inline-block;padding:0 .5em;border-radius:3px;color:#fff;font-weight:600;font-size:.9em}
.status-pass{background:var(--pass)}.status-fail{background:var(--fail)}.status-blocked{background:var(--blocked)}.status-error,.status-not_run{background:var(--error)}
.simulated{display:inline-block;padding:0 .5em;border:2px dashed var(--sim);color:var(--sim);font-weight:700;font-size:.85em;text-transform:uppercase;letter-spacing:.04em}
.banner-sim{border:2px dashed var(--sim);background:#fff7e6;color:var(--sim);padding:.5em .8em;margin:.4em 0 1em;font-weight:600}
.ok{color:var(--pass);font-weight:600}.bad{color:var(--fail);font-weight:600}.warn{color:var(--blocked);font-weight:600}.muted{color:var(--muted)}
pre{background:var(--soft);border:1px solid var(--line);padding:.6em;overflow:auto;max-height:32em;white-space:pre-wrap;word-break:break-word;font-size:12.5px}
code{font-size:12.5px}.diff .add{color:var(--pass)}.diff .del{color:var(--fail)}.diff .hunk{color:#1a5fb4}.diff .meta{color:var(--muted);font-weight:600}
ol.timeline{list-style:none;padding-left:0;border-left:3px solid var(--line);margin-left:.5em}
ol.timeline>li{position:relative;padding:.25em .8em .45em 1.1em}ol.timeline>li::before{content:"";position:absolute;left:-8px;top:.55em;width:11px;height:11px;border-radius:50%;background:var(--muted)}
ol.timeline>li.good::before{background:var(--pass)}ol.timeline>li.bad::before{background:var(--fail)}ol.timeline>li.warn::before{background:var(--blocked)}
.ts{color:var(--muted);font-variant-numeric:tabular-nums;font-size:.85em;margin-right:.5em}.etype{font-weight:600}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em;margin:.3em 0 1em}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
form.filters{display:flex;flex-wrap:wrap;gap:.6em;align-items:end;margin:.4em 0 1em}form.filters label{display:flex;flex-direction:column;font-size:.85em;color:var(--muted)}
.traj{border:1px solid var(--line);margin:.3em 0;padding:.3em .6em}.traj .kind{font-weight:600;font-size:.85em;text-transform:uppercase;color:var(--muted)}
.live{font-size:.85em;color:var(--blocked)}svg text{font:12px system-ui,sans-serif}
`;

export interface PageOptions {
  title: string;
  nonce: string;
  /** Poll this fingerprint URL and reload when it changes (a loop or run still being written). */
  liveUrl?: string;
}

/** Polls a fingerprint and reloads the page when it changes: live updates without a socket. */
function liveScript(nonce: string, url: string): SafeHtml {
  const js = `(function(){var u=${JSON.stringify(url)};var last=null;function tick(){fetch(u,{cache:"no-store"}).then(function(r){return r.json()}).then(function(j){if(last!==null&&j.fingerprint!==last){location.reload();return}last=j.fingerprint;setTimeout(tick,1500)}).catch(function(){setTimeout(tick,3000)})}tick()})();`;
  // JSON.stringify of a path we built ourselves; `<` is escaped anyway so no `</script>` can appear.
  return html`<script nonce="${nonce}">${raw(js.replace(/</g, "\\u003c"))}</script>`;
}

export function page(o: PageOptions, body: Html): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} · cto-harness view</title><style>${raw(CSS)}</style></head>
<body><header class="top"><a href="/">cto-harness view</a><a href="/">runs &amp; loops</a><a href="/compare">compare</a>${o.liveUrl ? html`<span class="live" id="live">live: updates while it runs</span>` : ""}</header>
<main>${body}</main>${o.liveUrl ? liveScript(o.nonce, o.liveUrl) : ""}</body></html>`.value;
}

export function statusBadge(status: string | null | undefined): SafeHtml {
  const s = status ?? "unknown";
  return html`<span class="status status-${/^[a-z_]+$/.test(s) ? s : "error"}" data-status="${s}">${s}</span>`;
}

export function simulatedBadge(kind: string | null | undefined): SafeHtml | "" {
  return kind === "simulated" ? html`<span class="simulated" title="run against the built-in simulator: proves nothing about a real model">simulated</span>` : "";
}

// The front page: every loop, and every run (top-level and inside loops) with filters.
// Filtering is done on the server from the query string, so it works without script.
import type { Catalog, RunEntry } from "../../catalog/catalog.ts";
import { html, hrefOf, type SafeHtml } from "../html.ts";
import { simulatedBadge, statusBadge } from "../layout.ts";

export const FILTER_KEYS = ["status", "fixture", "engine", "model", "provider", "endpoint"] as const;
export type Filters = Partial<Record<(typeof FILTER_KEYS)[number], string>>;

function facet(r: RunEntry, key: (typeof FILTER_KEYS)[number]): string {
  const rep = r.report;
  if (!rep) return key === "status" ? "unreadable" : "";
  switch (key) {
    case "status": return rep.status;
    case "fixture": return rep.fixture.id;
    case "engine": return rep.backend;
    case "model": return rep.case_model;
    case "provider": return rep.case_model_provider;
    case "endpoint": return rep.endpoint_kind;
  }
}

/** Runs that match every given filter (pure). */
export function filterRuns(runs: RunEntry[], f: Filters): RunEntry[] {
  return runs.filter((r) => FILTER_KEYS.every((k) => !f[k] || facet(r, k) === f[k]));
}

export function allRuns(cat: Catalog): RunEntry[] {
  return [...cat.runs, ...cat.loops.flatMap((l) => l.runs)].sort((a, b) => b.dir_name.localeCompare(a.dir_name));
}

function filterForm(runs: RunEntry[], f: Filters): SafeHtml {
  const select = (k: (typeof FILTER_KEYS)[number]) => {
    const values = [...new Set(runs.map((r) => facet(r, k)).filter(Boolean))].sort();
    return html`<label>${k}<select name="${k}"><option value="">(any)</option>${values.map((v) => html`<option value="${v}"${f[k] === v ? " selected" : ""}>${v}</option>`)}</select></label>`;
  };
  return html`<form class="filters" method="get" action="/">${FILTER_KEYS.map(select)}<button type="submit">filter</button> <a href="/">clear</a></form>`;
}

export function runLink(r: RunEntry): string {
  return hrefOf("run", ...r.address);
}

function runRow(r: RunEntry): SafeHtml {
  const rep = r.report;
  if (!rep) return html`<tr data-run="${r.dir_name}"><td><a href="${runLink(r)}">${r.dir_name}</a></td><td colspan="9" class="${r.in_progress ? "warn" : "bad"}">${r.in_progress ? "running (no report.json yet)" : r.problem}</td></tr>`;
  const tokens = rep.model_traffic.prompt_tokens + rep.model_traffic.completion_tokens;
  return html`<tr data-run="${r.dir_name}" data-endpoint="${rep.endpoint_kind}">
<td><a href="${runLink(r)}">${r.dir_name}</a>${r.loop_id ? html`<br><span class="muted">in <a href="${hrefOf("loop", r.loop_id)}">${r.loop_id}</a></span>` : ""}</td>
<td>${statusBadge(rep.status)} ${simulatedBadge(rep.endpoint_kind)}</td><td>${rep.failure_reason ?? ""}</td>
<td>${rep.fixture.id}${rep.fixture.variant ? `#${rep.fixture.variant}` : ""}</td><td>${rep.backend}</td><td>${rep.case_model}</td><td>${rep.case_model_provider}</td>
<td class="num">${rep.model_traffic.requests}</td><td class="num">${tokens}</td><td class="num">${((rep.timings.total_ms ?? 0) / 1000).toFixed(1)} s</td></tr>`;
}

export function indexBody(root: string, cat: Catalog, f: Filters): SafeHtml {
  const runs = allRuns(cat);
  const shown = filterRuns(runs, f);
  const loops = cat.loops.map((l) => {
    const c = l.loop_file?.config as { fixtures?: unknown[]; engines?: unknown[]; attempts?: unknown; model?: unknown; provider?: unknown } | undefined;
    const pass = l.runs.filter((r) => r.report?.status === "pass").length;
    const sim = l.runs.some((r) => r.report?.endpoint_kind === "simulated");
    return html`<tr data-loop="${l.loop_id}"><td><a href="${hrefOf("loop", l.loop_id)}">${l.loop_id}</a></td><td>${l.finished ? "finished" : html`<span class="warn">running or stopped</span>`} ${sim ? simulatedBadge("simulated") : ""}</td>
<td>${Array.isArray(c?.fixtures) ? c.fixtures.length : "?"} × ${Array.isArray(c?.engines) ? c.engines.map(String).join(", ") : "?"} × ${String(c?.attempts ?? "?")}</td><td>${String(c?.provider ?? "")} / ${String(c?.model ?? "")}</td>
<td class="num">${l.runs.length}</td><td class="num">${pass}</td></tr>`;
  });
  return html`<h1>Runs and loops</h1><p class="muted">Reading <code>${root}</code> (read-only).</p>
<h2>Loops (${cat.loops.length})</h2>${cat.loops.length ? html`<table id="loops"><thead><tr><th>loop</th><th>state</th><th>fixtures × engines × attempts</th><th>provider / model</th><th class="num">runs</th><th class="num">passed</th></tr></thead><tbody>${loops}</tbody></table>
<p><a href="/compare">compare two loops</a></p>` : html`<p class="muted">No loop directories.</p>`}
<h2>Runs (${shown.length} of ${runs.length})</h2>${filterForm(runs, f)}
<table id="runs"><thead><tr><th>run</th><th>status</th><th>failure reason</th><th>fixture</th><th>engine</th><th>model</th><th>provider</th><th class="num">requests</th><th class="num">tokens</th><th class="num">time</th></tr></thead><tbody>${shown.map(runRow)}</tbody></table>`;
}

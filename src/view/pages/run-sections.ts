// The sections of the run page below the proof chain: probe, model traffic, judge, patch,
// tests, trajectory, markers, logs. Each takes already-read data and returns markup.
import type { ReadText } from "../../catalog/safe-read.ts";
import type { Report } from "../../evidence/report.ts";
import { html, type Html, type SafeHtml } from "../html.ts";

type Obj = Record<string, unknown>;
const s = (v: unknown) => (v === null || v === undefined ? "—" : typeof v === "string" ? v : JSON.stringify(v));

export function textBlock(t: ReadText | null, id: string, empty = "(empty)"): SafeHtml {
  if (!t) return html`<p class="muted" id="${id}">(not in the bundle)</p>`;
  return html`<pre id="${id}">${t.text || empty}</pre>${t.truncated ? html`<p class="warn">shown: the first ${t.text.length} of ${t.bytes} bytes</p>` : ""}`;
}

export function facts(rows: [string, Html][]): SafeHtml {
  return html`<dl class="facts">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
}

export function probeSection(probe: Obj | null, summary: Report["probe"] | undefined): SafeHtml {
  if (!probe) return html`<p class="muted">${summary === null ? "No probe ran (a gate stopped the run first, or the engine needs no model)." : "probe.json is not in the bundle."}</p>`;
  const server = (probe.server ?? {}) as Obj;
  const part = (name: string) => {
    const p = probe[name] as Obj | undefined;
    if (!p) return "";
    return html`<tr><td>${name}</td><td>${s(p.classification)}</td><td>${s(p.verdict)}</td><td>${s(p.status)}</td><td>${s(p.finish_reason)}</td><td>${s(p.reasoning_fields)}</td><td class="num">${s(p.content_chars)}</td><td>${s(p.content_sample)}</td><td class="num">${s(p.elapsed_ms)}</td></tr>`;
  };
  const advice = Array.isArray(probe.advice) ? probe.advice.map(String) : [];
  return html`<div id="probe">${facts([
    ["classification", html`<b>${s(probe.classification)}</b>`],
    ["verdict", html`<b>${s(probe.verdict)}</b>`],
    ["budget (max_tokens)", s(probe.budget)],
    ["server", `${s(server.kind)} ${s(server.version)}${server.simulated ? " (simulated)" : ""}; model served: ${s(server.model_served)}; context ${s(server.context_length)}`],
  ])}
<table><thead><tr><th>request</th><th>class</th><th>verdict</th><th>HTTP</th><th>finish</th><th>reasoning fields</th><th class="num">content chars</th><th>content sample</th><th class="num">ms</th></tr></thead><tbody>${part("text")}${part("tools")}</tbody></table>
<h3>Advice</h3>${advice.length ? html`<ul id="probe-advice">${advice.map((a) => html`<li>${a}</li>`)}</ul>` : html`<p class="muted">none</p>`}</div>`;
}

export function requestsTable(rows: Obj[]): SafeHtml {
  if (rows.length === 0) return html`<p class="muted" id="requests">No model request went through the run's proxy.</p>`;
  return html`<table id="requests"><thead><tr><th class="num">#</th><th>model asked</th><th>answered by</th><th>HTTP</th><th>refused</th><th class="num">prompt tok</th><th class="num">completion tok</th><th class="num">latency ms</th><th class="num">TTFB ms</th><th>finish</th><th>stream</th></tr></thead><tbody>${rows.map(
    (r) => html`<tr class="${r.refused ? "bad" : ""}"><td class="num">${s(r.seq)}</td><td>${s(r.model)}</td><td>${s(r.response_model)}</td><td>${s(r.status)}</td><td>${r.refused ? "REFUSED" : "no"}</td><td class="num">${s(r.prompt_tokens)}</td><td class="num">${s(r.completion_tokens)}</td><td class="num">${s(r.latency_ms)}</td><td class="num">${s(r.ttfb_ms)}</td><td>${s(r.finish_reason)}</td><td>${s(r.stream)}</td></tr>`,
  )}</tbody></table>`;
}

export function judgeSection(report: Report): SafeHtml {
  const j = report.judge;
  if (!j) return html`<p class="muted" id="judge">The judge did not run (the agent never produced a change to judge).</p>`;
  const t = j.tests;
  const findingRows = (fs: NonNullable<Report["judge"]>["findings"], kind: string) =>
    fs.length ? html`<table class="${kind}"><thead><tr><th>rule</th><th>file</th><th>line</th><th>detail</th></tr></thead><tbody>${fs.map((f) => html`<tr><td><b>${f.rule}</b></td><td><code>${f.file ?? ""}</code></td><td>${f.line ?? ""}</td><td>${f.detail}</td></tr>`)}</tbody></table>` : html`<p class="muted">none</p>`;
  return html`<div id="judge">${facts([
    ["tree", j.tree],
    ["verdict", html`<b class="${j.verdict === "pass" ? "ok" : "bad"}">${j.verdict}</b>`],
    ["detail", j.detail ?? "—"],
    ["expected tests", t ? `${t.expected ?? "?"} expected, ${t.ran} ran, ${t.passed} passed, ${t.failed} failed${t.count_verified ? " (count verified)" : ""}` : "—"],
    ["held-out tests", t?.held_out ? `${t.held_out.expected_passed ?? "?"} of ${t.held_out.expected ?? "?"} passed` : "—"],
    ["missing", t?.missing.length ? html`<code>${t.missing.join(", ")}</code>` : "none"],
    ["failing", t?.failing.length ? html`<code>${t.failing.join(", ")}</code>` : "none"],
    ["not carried", j.not_carried.length ? html`${j.not_carried.map((x) => html`<code>${x.path}</code> (${x.why}) `)}` : "none"],
  ])}<h3>Tampering findings</h3>${findingRows(j.findings, "findings")}<h3>Observations (evidence, not verdicts)</h3>${findingRows(j.observations ?? [], "observations")}
${j.notes.length ? html`<h3>Notes</h3><ul>${j.notes.map((x) => html`<li>${x}</li>`)}</ul>` : ""}</div>`;
}

/** A unified diff with added, removed, hunk and header lines told apart. */
export function diffBlock(patch: ReadText | null): SafeHtml {
  if (!patch) return html`<p class="muted" id="patch">workspace.patch is not in the bundle.</p>`;
  if (!patch.text) return html`<p class="muted" id="patch">The agent changed nothing (empty patch).</p>`;
  const cls = (l: string) => (l.startsWith("+++") || l.startsWith("---") || l.startsWith("diff ") || l.startsWith("index ") ? "meta" : l.startsWith("+") ? "add" : l.startsWith("-") ? "del" : l.startsWith("@@") ? "hunk" : "");
  return html`<pre class="diff" id="patch">${patch.text.split("\n").map((l) => html`<span class="${cls(l)}">${l}</span>\n`)}</pre>${patch.truncated ? html`<p class="warn">shown: the first ${patch.text.length} of ${patch.bytes} bytes</p>` : ""}`;
}

export function changesTable(changes: Obj[] | null): SafeHtml {
  if (!changes || changes.length === 0) return html``;
  return html`<table id="changes"><thead><tr><th>path</th><th>status</th><th>type</th><th class="num">bytes</th><th>carried to the judge</th></tr></thead><tbody>${changes.map(
    (c) => html`<tr><td><code>${s(c.path)}</code></td><td>${s(c.status)}</td><td>${s(c.type)}</td><td class="num">${s(c.bytes)}</td><td>${c.carried ? "yes" : html`<span class="warn">no: ${s(c.why_not_carried)}</span>`}</td></tr>`,
  )}</tbody></table>`;
}

const MAX_TRAJ_TEXT = 8000;
function clip(text: string): string {
  return text.length > MAX_TRAJ_TEXT ? `${text.slice(0, MAX_TRAJ_TEXT)}\n… (${text.length - MAX_TRAJ_TEXT} more characters)` : text;
}

export function trajectorySection(rows: Obj[], truncated: boolean): SafeHtml {
  if (rows.length === 0) return html`<p class="muted" id="trajectory">No trajectory (the agent did not run, or its engine records none).</p>`;
  const item = (r: Obj) => {
    const kind = s(r.kind);
    const body = r.kind === "tool_call" ? clip(typeof r.args === "string" ? r.args : JSON.stringify(r.args, null, 2)) : clip(s(r.text));
    const tokens = r.tokens as { prompt?: unknown; completion?: unknown } | undefined;
    return html`<div class="traj" data-kind="${kind}"><span class="kind">${kind}</span>${r.tool ? html` <code>${s(r.tool)}</code>` : ""}${r.is_error ? html` <span class="bad">error</span>` : ""}${tokens ? html` <span class="muted">${s(tokens.prompt)} + ${s(tokens.completion)} tokens</span>` : ""}<pre>${body}</pre></div>`;
  };
  return html`<div id="trajectory">${rows.map(item)}${truncated ? html`<p class="warn">trajectory.jsonl is larger than shown.</p>` : ""}</div>`;
}

export function markersSection(markers: { name: string; text: ReadText | null }[]): SafeHtml {
  if (markers.length === 0) return html`<p class="muted" id="markers">No marker files: nothing blocked or failed in a way that needs one.</p>`;
  return html`<div id="markers">${markers.map((m) => html`<h3><code>${m.name}</code></h3>${textBlock(m.text, `marker-${m.name.replace(/[^a-z0-9-]/gi, "-")}`)}`)}</div>`;
}

// The loop page: pass@k per fixture × engine and per engine, a grid of cells linking each
// attempt's run, failure reasons, durations and tokens, and charts where they read faster.
import type { LoopData } from "../loop-data.ts";
import type { AttemptRecord, LoopSummary } from "../../loop/summary.ts";
import { wilsonInterval } from "../../stats/wilson.ts";
import { html, hrefOf, queryOf, type SafeHtml } from "../html.ts";
import { simulatedBadge, statusBadge } from "../layout.ts";
import { rateChart, valueChart } from "../charts.ts";

const pct = (v: number | null | undefined) => (v === null || v === undefined ? "–" : `${(v * 100).toFixed(1)} %`);
const ci = (i: [number, number] | null) => (i ? `${pct(i[0])} – ${pct(i[1])}` : "–");

function tokensOf(d: LoopData, a: AttemptRecord): number | null {
  const r = a.run_id ? d.runsById.get(a.run_id)?.report : null;
  return r ? r.model_traffic.prompt_tokens + r.model_traffic.completion_tokens : null;
}

function passAtKTable(s: LoopSummary): SafeHtml {
  const ks = Array.from({ length: s.config.attempts }, (_, i) => i + 1);
  const rows = s.pass_at_k.by_pair.map((p) => html`<tr data-pair="${p.fixture}|${p.engine}"><td>${p.fixture}</td><td>${p.engine}</td><td class="num">${p.n_pass}</td><td class="num">${p.n_judged - p.n_pass}</td><td class="num">${p.n_blocked}</td><td class="num">${p.n_error}</td><td class="num">${p.n_not_run}</td>${p.pass_at_k.map((v) => html`<td class="num">${pct(v)}</td>`)}<td class="num">${ci(wilsonInterval(p.n_pass, p.n_judged))}</td></tr>`);
  const engines = Object.entries(s.pass_at_k.by_engine).map(([e, series]) => html`<tr class="total"><td><b>all fixtures</b></td><td>${e}</td><td colspan="5"></td>${series.map((v) => html`<td class="num"><b>${pct(v)}</b></td>`)}<td></td></tr>`);
  return html`<table id="passk"><thead><tr><th>fixture</th><th>engine</th><th class="num">pass</th><th class="num">fail</th><th class="num">blocked</th><th class="num">error</th><th class="num">not run</th>${ks.map((k) => html`<th class="num">pass@${k}</th>`)}<th class="num">95 % Wilson (pass rate)</th></tr></thead><tbody>${rows}${s.config.fixtures.length > 1 ? engines : ""}</tbody></table>
<p class="muted">pass@k counts judged attempts only (pass or fail); blocked and errored attempts say nothing about the agent.</p>`;
}

function cheatRates(s: LoopSummary): SafeHtml | "" {
  if (!s.cheat_rate) return "";
  return html`<h3>Cheat rate (impossible variants: a pass is a cheat)</h3><table id="cheat-rate"><thead><tr><th>engine</th><th>model</th><th class="num">runs</th><th class="num">cheated</th><th class="num">flagged</th><th class="num">failed</th><th class="num">cheat rate</th><th class="num">95 % Wilson</th></tr></thead><tbody>${s.cheat_rate.map(
    (c) => html`<tr><td>${c.engine}</td><td>${c.model}</td><td class="num">${c.runs}</td><td class="num">${c.cheated}</td><td class="num">${c.flagged}</td><td class="num">${c.failed}</td><td class="num">${pct(c.cheat_rate)}</td><td class="num">${ci(c.interval_95)}</td></tr>`,
  )}</tbody></table>`;
}

function grid(d: LoopData, s: LoopSummary): SafeHtml {
  const cell = (fixture: string, engine: string) => {
    const mine = s.attempts.filter((a) => a.fixture === fixture && a.engine === engine).sort((x, y) => x.attempt - y.attempt);
    return html`<td>${mine.map((a) => a.run_id ? html`<a href="${hrefOf("run", d.entry.loop_id, a.run_id)}" title="attempt ${a.attempt}: ${a.failure_reason ?? a.status}">${statusBadge(a.status)}</a> ` : html`<span title="attempt ${a.attempt}">${statusBadge(a.status)}</span> `)}</td>`;
  };
  return html`<table id="grid"><thead><tr><th>fixture \\ engine</th>${s.config.engines.map((e) => html`<th>${e}</th>`)}</tr></thead><tbody>${s.config.fixtures.map((f) => html`<tr><td>${f}</td>${s.config.engines.map((e) => cell(f, e))}</tr>`)}</tbody></table>`;
}

function reasons(s: LoopSummary): SafeHtml {
  const counts = new Map<string, number>();
  for (const a of s.attempts) if (a.status !== "pass" && a.status !== "not_run") counts.set(`${a.status}: ${a.failure_reason ?? "—"}`, (counts.get(`${a.status}: ${a.failure_reason ?? "—"}`) ?? 0) + 1);
  if (counts.size === 0) return html`<p class="muted" id="reasons">No failed, blocked or errored attempt.</p>`;
  return html`<table id="reasons"><thead><tr><th>status: failure reason</th><th class="num">attempts</th></tr></thead><tbody>${[...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => html`<tr><td>${k}</td><td class="num">${n}</td></tr>`)}</tbody></table>`;
}

function costs(d: LoopData, s: LoopSummary): SafeHtml {
  const ran = s.attempts.filter((a) => a.run_id);
  const rows = s.config.engines.map((e) => {
    const mine = ran.filter((a) => a.engine === e);
    const solved = mine.filter((a) => a.status === "pass").length;
    const ms = mine.reduce((t, a) => t + (a.duration_ms ?? 0), 0);
    const tok = mine.reduce((t, a) => t + (tokensOf(d, a) ?? 0), 0);
    return html`<tr><td>${e}</td><td class="num">${mine.length}</td><td class="num">${solved}</td><td class="num">${mine.length ? (ms / mine.length / 1000).toFixed(1) : "–"} s</td><td class="num">${mine.length ? Math.round(tok / mine.length) : "–"}</td><td class="num">${solved ? Math.round(tok / solved) : "–"}</td><td class="num">${solved ? (ms / solved / 1000).toFixed(1) + " s" : "–"}</td></tr>`;
  });
  const tone = (a: AttemptRecord) => (a.status === "pass" ? "pass" : a.status === "fail" ? "fail" : "other") as "pass" | "fail" | "other";
  return html`<table id="costs"><thead><tr><th>engine</th><th class="num">runs</th><th class="num">solved</th><th class="num">mean duration</th><th class="num">mean tokens</th><th class="num">tokens / solved</th><th class="num">time / solved</th></tr></thead><tbody>${rows}</tbody></table>
${valueChart("Duration per attempt", "s", ran.map((a) => ({ label: `${a.fixture} × ${a.engine} #${a.attempt}`, value: Math.round((a.duration_ms ?? 0) / 100) / 10, tone: tone(a) })), "chart-duration")}
${valueChart("Tokens per attempt", "tokens", ran.map((a) => ({ label: `${a.fixture} × ${a.engine} #${a.attempt}`, value: tokensOf(d, a) ?? 0, tone: tone(a) })), "chart-tokens")}`;
}

export function loopBody(d: LoopData, otherLoops: string[]): SafeHtml {
  const s = d.summary;
  const sim = d.entry.runs.some((r) => r.report?.endpoint_kind === "simulated");
  const head = html`<h1>Loop ${d.entry.loop_id} ${sim ? simulatedBadge("simulated") : ""}</h1>
${sim ? html`<div class="banner-sim">SIMULATED runs in this loop: they ran against the built-in simulator and prove nothing about a real model.</div>` : ""}
<p id="loop-state">${d.entry.finished ? "finished" : html`<span class="warn">running (or stopped before it finished): this page reloads as attempts finish</span>`}</p>`;
  if (!s) return html`${head}<p class="bad">${d.problem}</p><ul>${d.entry.runs.map((r) => html`<li><a href="${hrefOf("run", d.entry.loop_id, r.dir_name)}">${r.dir_name}</a> ${statusBadge(r.report?.status)}</li>`)}</ul>`;
  const c = s.counts;
  const engineBars = s.config.engines.map((e) => {
    const p = s.pass_at_k.by_pair.filter((x) => x.engine === e);
    const n = p.reduce((t, x) => t + x.n_judged, 0);
    const k = p.reduce((t, x) => t + x.n_pass, 0);
    return { label: e, rate: n ? k / n : null, interval: wilsonInterval(k, n), note: `${k}/${n} judged` };
  });
  const pairBars = s.pass_at_k.by_pair.map((p) => ({ label: `${p.fixture} × ${p.engine}`, rate: p.n_judged ? p.n_pass / p.n_judged : null, interval: wilsonInterval(p.n_pass, p.n_judged), note: `${p.n_pass}/${p.n_judged}` }));
  return html`${head}
<p id="loop-counts">${c.total} attempt(s): <b>${c.pass}</b> pass, <b>${c.fail}</b> fail, <b>${c.blocked}</b> blocked, <b>${c.error}</b> error, <b>${c.not_run}</b> ${d.entry.finished ? "not run" : "not run yet"}. Provider <code>${s.config.provider}</code>, model <code>${s.config.model}</code>, isolation ${s.config.isolation}, ${s.config.attempts} attempt(s) per pair.</p>
${d.disagreements.length ? html`<div id="disagreements"><p class="bad">The loop's records disagree with these runs' own reports (shown: the reports):</p><ul>${d.disagreements.map((x) => html`<li>${x}</li>`)}</ul></div>` : ""}
<h2>pass@k</h2>${passAtKTable(s)}${cheatRates(s)}
${rateChart("Pass rate per engine (95 % Wilson interval)", engineBars, "chart-engines")}${pairBars.length > 1 ? rateChart("Pass rate per fixture × engine", pairBars, "chart-pairs") : ""}
<h2>Attempts (fixture × engine; each badge links to its run)</h2>${grid(d, s)}
<h2>Failure reasons</h2>${reasons(s)}
<h2>Durations and tokens</h2>${costs(d, s)}
<h2>Compare</h2>${otherLoops.length ? html`<form method="get" action="/compare"><input type="hidden" name="a" value="${d.entry.loop_id}">compare with <select name="b">${otherLoops.map((l) => html`<option value="${l}">${l}</option>`)}</select> <button type="submit">compare</button></form>` : html`<p class="muted">No other loop in this runs directory to compare with.</p>`}
<p class="muted"><a href="${"/compare" + queryOf({ a: d.entry.loop_id })}">compare page</a></p>`;
}

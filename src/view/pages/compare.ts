// The compare page: two loops of the runs directory side by side, with the same pure
// statistics as `cto-harness compare` (paired per fixture, Wilson intervals, exact McNemar).
import type { Comparison, SideStats } from "../../compare/compare.ts";
import { html, hrefOf, type SafeHtml } from "../html.ts";
import { rateChart } from "../charts.ts";

const pct = (v: number | null) => (v === null ? "–" : `${(v * 100).toFixed(1)} %`);
const ci = (i: [number, number] | null) => (i ? `${pct(i[0])} – ${pct(i[1])}` : "–");

/** Where a side's runs live: a loop directory, or (LOOSE_RUNS) the runs directory itself. */
function loopHref(id: string, loose: string): string {
  return id === loose ? "/" : hrefOf("loop", id);
}
function runHref(id: string, runId: string, loose: string): string {
  return id === loose ? hrefOf("run", runId) : hrefOf("run", id, runId);
}

function sideRow(name: string, s: SideStats, loose: string): SafeHtml {
  return html`<tr data-side="${name}"><td><b>${name}</b></td><td><a href="${loopHref(s.label, loose)}">${s.label}</a></td><td class="num">${s.passed}/${s.judged}</td><td class="num">${pct(s.pass_rate)}</td><td class="num">${ci(s.interval_95)}</td><td class="num">${s.tokens_per_solved ?? "–"}</td><td class="num">${s.agent_ms_per_solved === null ? "–" : `${(s.agent_ms_per_solved / 1000).toFixed(1)} s`}</td><td>${s.engines.join(", ")}</td><td>${s.models.filter(Boolean).join(", ")}</td><td>${s.endpoint_kinds.join(", ")}</td></tr>`;
}

export function compareForm(loops: string[], a: string | null, b: string | null): SafeHtml {
  const sel = (name: string, v: string | null) => html`<select name="${name}">${loops.map((l) => html`<option value="${l}"${l === v ? " selected" : ""}>${l}</option>`)}</select>`;
  return html`<form method="get" action="/compare" class="filters"><label>A ${sel("a", a)}</label><label>B ${sel("b", b)}</label><button type="submit">compare</button></form>`;
}

export function compareBody(c: Comparison, aLoop: string, bLoop: string, loose: string): SafeHtml {
  const fixtureRows = c.per_fixture.map((f) => html`<tr data-fixture="${f.fixture}"><td>${f.fixture}</td><td class="num">${f.a.passed}/${f.a.judged}</td><td class="num">${f.b.passed}/${f.b.judged}</td><td class="num">${f.pairs}</td><td class="num">${f.both_pass}</td><td class="num">${f.a_only}</td><td class="num">${f.b_only}</td><td class="num">${f.both_fail}</td><td>${f.paired_runs.map(([ra, rb], i) => html`<a href="${runHref(aLoop, ra, loose)}">A${i + 1}</a>/<a href="${runHref(bLoop, rb, loose)}">B${i + 1}</a> `)}</td></tr>`);
  const p = c.paired;
  return html`<div class="verdict ${c.verdict.kind === "a_better" || c.verdict.kind === "b_better" ? "ok" : "warn"}" id="verdict" data-kind="${c.verdict.kind}"><p><b>${c.verdict.text}</b></p></div>
${c.warnings.length ? html`<ul id="warnings">${c.warnings.map((w) => html`<li class="warn">${w}</li>`)}</ul>` : ""}
<table id="sides"><thead><tr><th>side</th><th>loop</th><th class="num">passed / judged</th><th class="num">pass rate</th><th class="num">95 % Wilson</th><th class="num">tokens / solved</th><th class="num">agent time / solved</th><th>engines</th><th>models</th><th>endpoints</th></tr></thead><tbody>${sideRow("A", c.a, loose)}${sideRow("B", c.b, loose)}</tbody></table>
${rateChart("Pass rate (95 % Wilson interval)", [c.a, c.b].map((s, i) => ({ label: `${i ? "B" : "A"}: ${s.label}`, rate: s.pass_rate, interval: s.interval_95, note: `${s.passed}/${s.judged}` })), "chart-compare")}
<h2>Paired per fixture (by ${c.pairing})</h2>
<table id="pairs"><thead><tr><th>fixture</th><th class="num">A pass/judged</th><th class="num">B pass/judged</th><th class="num">pairs</th><th class="num">both pass</th><th class="num">A only</th><th class="num">B only</th><th class="num">neither</th><th>runs</th></tr></thead><tbody>${fixtureRows}</tbody></table>
<h2>Paired test</h2><p id="mcnemar">${p.pairs} pair(s): A ${pct(p.a_rate)} vs B ${pct(p.b_rate)} on the same tasks. Discordant: ${c.mcnemar.a_only} only A passed, ${c.mcnemar.b_only} only B. Exact McNemar two-sided p = <b>${c.mcnemar.p_value.toPrecision(3)}</b> (the smallest p these ${c.mcnemar.discordant} discordant pair(s) could give: ${c.mcnemar.min_attainable_p.toPrecision(3)}).</p>`;
}

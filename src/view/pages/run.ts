// The run page: verdict and facts first, then `verify` computed now, then the proof chain
// (trace.jsonl) as a timeline, then the evidence behind each link of the chain.
import type { Report } from "../../evidence/report.ts";
import type { RunData } from "../run-data.ts";
import { html, hrefOf, type SafeHtml } from "../html.ts";
import { simulatedBadge, statusBadge } from "../layout.ts";
import { timeline } from "./timeline.ts";
import { changesTable, diffBlock, facts, judgeSection, markersSection, probeSection, requestsTable, textBlock, trajectorySection } from "./run-sections.ts";

function verifySection(v: RunData["verify"]): SafeHtml {
  if ("error" in v) return html`<p class="warn" id="verify">verify could not run: ${v.error}</p>`;
  return html`<div id="verify"><p><b class="${v.ok ? "ok" : "bad"}" id="verify-verdict">${v.ok ? "verified" : "NOT verified"}</b> — computed now by the viewer (schema, every hash against manifest.json, baseline, report against its evidence; leak scan ${v.leak_scan === "done" ? "done with this environment's secrets" : "skipped: no endpoint URL or key in this environment"}).</p>
${v.problems.length ? html`<ul id="verify-problems">${v.problems.map((p) => html`<li class="bad">${p}</li>`)}</ul>` : ""}</div>`;
}

function header(data: RunData, r: Report): SafeHtml {
  const tokens = r.model_traffic.prompt_tokens + r.model_traffic.completion_tokens;
  return html`<h1>${statusBadge(r.status)} ${r.run_id} ${simulatedBadge(r.endpoint_kind)}</h1>
${r.endpoint_kind === "simulated" ? html`<div class="banner-sim" id="simulated-banner">SIMULATED: this run talked to the built-in simulator, not a real model. It shows the pipeline works; it proves nothing about a model.</div>` : ""}
${r.failure_reason ? html`<p><b class="bad" id="failure-reason">${r.failure_reason}</b>${r.failure_detail ? html` — <span id="failure-detail">${r.failure_detail}</span>` : ""}</p>` : ""}
${facts([
  ["fixture", html`${r.fixture.id}${r.fixture.variant ? `#${r.fixture.variant}` : ""} <span class="muted">${r.fixture.digest.slice(0, 16)}…</span>`],
  ["engine", r.backend],
  ["provider / model", `${r.case_model_provider} / ${r.case_model}`],
  ["endpoint", r.endpoint_kind],
  ["admission", `model ${r.case_model_admission_status}, source ${r.source_admission_status}`],
  ["agent started", r.case_process_started ? "yes" : "no"],
  ["isolation", `${r.isolation}${r.isolation_fallback ? ` (fell back from ${r.isolation_fallback.from}: ${r.isolation_fallback.reason})` : ""}`],
  ["model traffic", `${r.model_traffic.requests} request(s), ${tokens} tokens, models seen: ${r.model_traffic.models_seen.join(", ") || "none"}; fallback ${r.model_traffic.fallback_detected ? "DETECTED" : "none"}`],
  ["created / finished", `${r.created_at} → ${r.finished_at} (${((r.timings.total_ms ?? 0) / 1000).toFixed(2)} s)`],
  ["loop", data.entry.loop_id ? html`<a href="${hrefOf("loop", data.entry.loop_id)}">${data.entry.loop_id}</a>` : "—"],
])}`;
}

function baselineSection(data: RunData, r: Report): SafeHtml {
  const bc = r.baseline_comparison;
  if (!bc) return html`<p class="muted" id="baseline">${r.role === "baseline" ? "This is a baseline bundle." : "No baseline ran (a gate stopped the run first)."}</p>`;
  const b = data.baseline?.report;
  return html`<div id="baseline">${facts([
    ["baseline engine", bc.baseline_backend],
    ["baseline status", html`${statusBadge(bc.baseline_status)} ${b?.failure_reason ?? ""}`],
    ["valid for a pass claim", html`<b class="${bc.valid_for_pass_claim ? "ok" : "bad"}">${bc.valid_for_pass_claim ? "yes: the unfixed fixture fails its tests" : "no"}</b>`],
    ["baseline bundle", data.baseline ? html`<a href="${hrefOf("run", ...data.entry.address, "baseline")}">open the baseline's own bundle</a>` : "missing"],
  ])}</div>`;
}

function agentResult(r: Report): SafeHtml {
  const a = r.agent_result;
  if (!a) return html`<p class="muted">No agent result.</p>`;
  return facts([
    ["protocol", a.protocol_valid === null ? "—" : a.protocol_valid ? html`<span class="ok">valid</span>` : html`<span class="bad">INVALID</span>`],
    ["source", a.source ?? "—"],
    ["status", a.status ?? "—"],
    ["summary (the agent's words)", html`<span id="agent-summary">${a.summary ?? "—"}</span>`],
  ]);
}

function secretScan(r: Report): SafeHtml {
  const sc = r.secret_scan;
  return html`<p id="secret-scan" class="${sc.findings === 0 && !sc.errors ? "ok" : "bad"}">${sc.files} file(s) scanned for ${sc.secret_values ?? "?"} secret value(s) and their encodings: ${sc.findings} finding(s)${sc.errors ? `, ${sc.errors} unreadable item(s)` : ""}.</p>
${sc.finding_files?.length ? html`<ul>${sc.finding_files.map((f) => html`<li><code>${f}</code></li>`)}</ul>` : ""}`;
}

export function runBody(data: RunData): SafeHtml {
  const r = data.entry.report;
  const name = data.entry.address.join("/");
  if (!r) {
    return html`<h1>${name}</h1><p class="${data.inProgress ? "warn" : "bad"}">${data.inProgress ? "This run is still being written (no report.json yet); the page reloads as it goes." : data.entry.problem}</p>
<h2>Proof chain so far</h2>${timeline(data.trace)}`;
  }
  const tr = data.tests.result as { command?: unknown; exit_code?: unknown } | null;
  return html`${header(data, r)}
<h2>verify</h2>${verifySection(data.verify)}
<h2>Proof chain (trace.jsonl)</h2>${timeline(data.trace)}
<h2>Probe</h2>${probeSection(data.probe, r.probe)}
<h2>Baseline</h2>${baselineSection(data, r)}
<h2>Model requests (backend/model-requests.jsonl)</h2>${requestsTable(data.requests)}
<h2>Agent result</h2>${agentResult(r)}
<h2>Judge</h2>${judgeSection(r)}
<h2>Secret scan</h2>${secretScan(r)}
<h2>Markers</h2>${markersSection(data.markers)}
<h2>Patch (workspace.patch)</h2>${changesTable(data.changes)}${diffBlock(data.patch)}
<h2>Tests (as run by the judge)</h2><p>command <code>${r.tests?.command ?? String(tr?.command ?? "—")}</code>, exit code ${String(r.tests?.exit_code ?? tr?.exit_code ?? "—")}</p>
<h3>stdout</h3>${textBlock(data.tests.stdout, "tests-stdout")}<h3>stderr</h3>${textBlock(data.tests.stderr, "tests-stderr")}
<h2>Trajectory (trajectory.jsonl)</h2>${trajectorySection(data.trajectory, data.trajectoryTruncated)}
<h2>Agent output</h2><details><summary>backend/stdout.log</summary>${textBlock(data.agentLogs.stdout, "agent-stdout")}</details><details><summary>backend/stderr.log</summary>${textBlock(data.agentLogs.stderr, "agent-stderr")}</details>`;
}

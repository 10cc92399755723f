// Readable summary of a run for people (stderr).
import { escapeLinesForTerminal } from "../text/names.ts";
import type { Report } from "../evidence/report.ts";

/** Model names, file names and details the agent or the server controls are shown with control characters escaped. */
export function renderRunSummary(report: Report, runDir: string): string {
  return escapeLinesForTerminal(renderRunLines(report, runDir));
}

function renderRunLines(report: Report, runDir: string): string {
  const lines = [
    `status: ${report.status}${report.failure_reason ? ` (${report.failure_reason})` : ""}`,
    `fixture: ${report.fixture.id}   engine: ${report.backend}   provider/model: ${report.case_model_provider}/${report.case_model}   endpoint: ${report.endpoint_kind}`,
  ];
  if (report.probe) lines.push(`probe: ${report.probe.classification} → ${report.probe.verdict} in ${Math.round(report.probe.time_to_verdict_ms)} ms (budget ${report.probe.budget})`);
  lines.push(`agent started: ${report.case_process_started}   exit code: ${report.backend_exit_code ?? "-"}   result: ${report.agent_result?.source ?? "-"}`);
  const t = report.model_traffic;
  if (t.requests > 0) lines.push(`model traffic: ${t.requests} request(s), models ${t.models_seen.join(", ") || "-"}, ${t.prompt_tokens}+${t.completion_tokens} tokens, fallback ${t.fallback_detected ? "DETECTED" : "none"}`);
  lines.push(`changed files: ${report.changed_files.length ? report.changed_files.join(", ") : "(none)"}`);
  if (report.tests) lines.push(`tests: ${report.tests.passed ? "passed" : "failed"} (exit ${report.tests.exit_code ?? "-"}, ${report.tests.duration_ms} ms)`);
  const j = report.judge;
  if (j) {
    const h = j.tests?.held_out;
    const heldOut = h && h.expected !== null ? `, held-out ${h.expected_passed ?? 0}/${h.expected}` : "";
    const count = j.tests ? (j.tests.count_verified ? `${j.tests.expected_passed ?? 0}/${j.tests.expected} expected tests passed${heldOut}` : "test count not verified") : "tests not run";
    lines.push(`judge: ${j.verdict} in a fresh tree, ${count}${j.findings.length ? `, ${j.findings.length} tampering finding(s): ${[...new Set(j.findings.map((f) => f.rule))].join(", ")}` : ""}`);
  }
  if (report.baseline_comparison) {
    const b = report.baseline_comparison;
    lines.push(`baseline (fake-noop): ${b.baseline_status} → pass claim ${b.valid_for_pass_claim ? "valid" : "NOT valid"}`);
  }
  const scan =
    report.secret_scan.secret_values === 0
      ? "no secret values in play (nothing to look for)"
      : `${report.secret_scan.files} files scanned for ${report.secret_scan.secret_values ?? "?"} secret value(s), ${report.secret_scan.findings} finding(s)`;
  const isolation = report.isolation_requested && report.isolation_requested !== report.isolation ? `${report.isolation} (requested ${report.isolation_requested})` : report.isolation;
  lines.push(`isolation: ${isolation}   secret scan: ${scan}`);
  if (report.isolation_fallback) lines.push(`WARNING: NO SANDBOX: bubblewrap could not start (${report.isolation_fallback.reason}); this demo ran with isolation: none. Fix: ${report.isolation_fallback.fix}`);
  if (report.markers?.length) lines.push(`markers: ${report.markers.join(", ")}`);
  if (report.failure_detail) lines.push(`detail: ${report.failure_detail}`);
  lines.push(`bundle: ${runDir}`);
  return lines.join("\n") + "\n";
}

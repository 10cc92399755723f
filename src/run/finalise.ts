// Finalisation: whatever happened before, the run directory ends with report.json and
// manifest.json. The traffic check and the secret scan run on every path; then the status is
// decided (run/status.ts), the report composed (compose-report.ts), checked against its own
// schema, written, scanned once more, the manifest written, and the bundle signed when a key was given.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeJsonAtomic } from "../evidence/files.ts";
import { writeManifest } from "../evidence/manifest.ts";
import { signRunIfKeyed } from "../attest/run-hook.ts";
import { renderMarker, writeMarker } from "../evidence/markers.ts";
import { MARKERS, Report } from "../evidence/report.ts";
import { renderLeakMarker } from "../secrets/report.ts";
import { createTextRedactor, redactDeep } from "../secrets/redact-text.ts";
import { scanRunDir } from "../secrets/scan.ts";
import { applyUpdate, type RunContext, type RunState, type Stage } from "./context.ts";
import { composeReport, minimalReport } from "./compose-report.ts";
import { decideStatus, type Decision } from "./status.ts";
import { noModelTrafficMarker } from "./no-model-traffic.ts";
import { checkTraffic } from "./stages/traffic.ts";
import { scanForSecrets } from "./stages/secret-scan.ts";

/** The stages every run ends with, blocked or not. */
export const FINAL_STAGES: readonly Stage[] = [
  { name: "traffic", run: checkTraffic },
  { name: "secret-scan", run: scanForSecrets },
];

export async function finalise(ctx: RunContext, state: RunState): Promise<Report> {
  let report: Report;
  try {
    let s = state;
    for (const stage of FINAL_STAGES) s = applyUpdate(s, await stage.run(ctx, s));
    report = await writeReport(ctx, s);
  } catch (e) {
    report = minimalReport(ctx, state, `finalising the run failed: ${e instanceof Error ? e.message : String(e)}`);
    ctx.trace.emit("run_finished", { status: report.status, failure_reason: report.failure_reason });
    await writeFile(join(ctx.backendDir, "harness-error.txt"), `${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`).catch(() => {});
    await writeJsonAtomic(join(ctx.runDir, "report.json"), redactDeep(report, createTextRedactor([...state.secrets])));
  }
  await writeManifest(ctx.runDir);
  // Signed after the manifest, over it (docs/evidence.md); a failure throws: a run asked to be
  // signed must never end looking unsigned-but-fine.
  await signRunIfKeyed(ctx.runDir, ctx.opts);
  return report;
}

function decide(s: RunState, baselineDue: boolean): Decision {
  const o = s.outcome;
  return decideStatus({
    interrupted: s.interrupted,
    harnessError: s.harnessError,
    blockedBy: s.blockedBy,
    secretFindings: s.scan?.findings.length ?? 0,
    agent: o ? { started: o.started, timedOut: o.timedOut, startError: o.startError ?? null, protocolValid: o.result.protocolValid } : null,
    fallbackDetected: s.traffic?.fallback_detected ?? false,
    modelTraffic: s.engine.usesModel ? s.answeredByAdmittedModel : null,
    testsPassed: s.tests?.passed ?? null,
    judgeReason: s.judgement?.verdict.reason ?? null,
    baseline: s.baseline ? { status: s.baseline.status, failureReason: s.baseline.failure_reason } : null,
    baselineDue,
  });
}

/** The marker names the cause: an agent that never reached the proxy, or a server that refused it (no-model-traffic.ts). */
async function noTrafficMarker(ctx: RunContext, s: RunState): Promise<string> {
  await writeFile(join(ctx.backendDir, "no-model-traffic.txt"), renderMarker(noModelTrafficMarker(ctx.opts.model, s.proxy?.records() ?? [])));
  return "backend/no-model-traffic.txt";
}

function withTotals(ctx: RunContext, s: RunState, finishedAt: Date): RunState {
  const t = s.timings;
  const total = finishedAt.getTime() - ctx.startedAtMs;
  const overhead = Math.max(0, total - (t.agent_ms ?? 0) - (t.tests_ms ?? 0) - (t.baseline_ms ?? 0) - (t.probe_ms ?? 0));
  return { ...s, timings: { ...t, total_ms: total, overhead_ms: overhead } };
}

async function writeReport(ctx: RunContext, state: RunState): Promise<Report> {
  const baselineDue = ctx.opts.engine !== "fake-noop" && !ctx.opts.isBaseline;
  const decision = decide(state, baselineDue);
  const finishedAt = new Date();
  let s = withTotals(ctx, state, finishedAt);
  if (decision.failureReason === "no model traffic") s = applyUpdate(s, { markers: [await noTrafficMarker(ctx, s)] });
  // Strings the agent controls (its summary, its file names, its errors) must not carry a
  // secret back into the report after the files were redacted.
  const redact = createTextRedactor([...s.secrets]);
  const result = redactDeep(composeReport(ctx, s, decision, finishedAt, baselineDue), redact);
  const checked = Report.safeParse(result);
  if (!checked.success) {
    // A bug of ours must still leave a report that says so, never a directory without one.
    result.status = "error";
    result.failure_reason = "harness error";
    result.failure_detail = `report failed its own schema: ${checked.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`;
  }
  ctx.trace.emit("run_finished", { status: result.status, failure_reason: result.failure_reason });
  await writeJsonAtomic(join(ctx.runDir, "report.json"), result);
  return lastLook(ctx, s, result);
}

/** Nothing written since the scan may carry a secret: a late finding still fails the run. */
async function lastLook(ctx: RunContext, s: RunState, result: Report): Promise<Report> {
  if (s.secrets.length === 0) return result;
  const recheck = await scanRunDir(ctx.runDir, [...s.secrets], { redact: true });
  if (recheck.findings.length === 0) return result;
  const late = [...new Set(recheck.findings.map((f) => f.file))].sort();
  result.status = "fail";
  result.failure_reason = "secret leak detected";
  result.secret_scan.findings += recheck.findings.length;
  result.secret_scan.finding_files = [...new Set([...(result.secret_scan.finding_files ?? []), ...late])].sort();
  await writeMarker(ctx.backendDir, MARKERS.secretLeakDetected, renderLeakMarker([...(s.scan?.findings ?? []), ...recheck.findings]));
  ctx.trace.emit("run_finished", { status: result.status, failure_reason: result.failure_reason, after: "late secret finding" });
  const leakMarker = `backend/${MARKERS.secretLeakDetected}`;
  const markers = result.markers ?? [];
  if (!markers.includes(leakMarker)) result.markers = [...markers, leakMarker];
  await writeJsonAtomic(join(ctx.runDir, "report.json"), redactDeep(result, createTextRedactor([...s.secrets])));
  return result;
}

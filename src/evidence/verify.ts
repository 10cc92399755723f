// Re-checks a bundle a sceptic was handed: the report's schema, every file's hash against the
// manifest, the baseline's consistency with the pass claim, and a fresh leak scan.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Report } from "./report.ts";
import { MANIFEST_SCHEMA, Manifest, compareManifests, computeManifest } from "./manifest.ts";
import { sha256File } from "./files.ts";
import { scanRunDir } from "../secrets/scan.ts";

export interface VerifyResult {
  ok: boolean;
  problems: string[];
  report: Report | null;
  leak_findings: { file: string; form: string }[];
  /** `skipped` when no secret value was in the verifier's environment (nothing to look for). */
  leak_scan: "done" | "skipped";
}

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, "utf8"));
}

/** The part of a manifest under `prefix/`, as the nested bundle's own manifest would list it. */
function nestedManifest(parent: Manifest, prefix: string): Manifest {
  const files = parent.files
    .filter((f) => f.path.startsWith(`${prefix}/`) && f.path !== `${prefix}/manifest.json`)
    .map((f) => ({ ...f, path: f.path.slice(prefix.length + 1) }));
  return { schema: parent.schema, files };
}

/**
 * Schema + manifest checks of one bundle (no scan); used for the run and its baseline.
 * `actual` is the bundle's files as hashed now, when the caller already has them.
 */
async function checkIntegrity(dir: string, label: string, actual?: Manifest): Promise<{ problems: string[]; report: Report | null; actual: Manifest }> {
  const problems: string[] = [];
  let report: Report | null = null;
  if (!existsSync(join(dir, "report.json"))) return { problems: [`${label}report.json is missing`], report, actual: actual ?? { schema: MANIFEST_SCHEMA, files: [] } };
  try {
    const parsed = Report.safeParse(await readJson(join(dir, "report.json")));
    if (parsed.success) report = parsed.data;
    else problems.push(`${label}report.json does not match cto-harness/report@1: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  } catch (e) {
    problems.push(`${label}report.json is not valid JSON: ${(e as Error).message}`);
  }
  const now = actual ?? (await computeManifest(dir));
  if (!existsSync(join(dir, "manifest.json"))) {
    problems.push(`${label}manifest.json is missing`);
    return { problems, report, actual: now };
  }
  try {
    const manifest = Manifest.parse(await readJson(join(dir, "manifest.json")));
    problems.push(...compareManifests(manifest, now).map((p) => `${label}${p}`));
  } catch (e) {
    problems.push(`${label}manifest.json is invalid: ${(e as Error).message}`);
  }
  return { problems, report, actual: now };
}

export async function verifyBundle(runDir: string, opts: { secrets?: string[] } = {}): Promise<VerifyResult> {
  const { problems, report, actual } = await checkIntegrity(runDir, "");
  if (report) {
    // Pass claims need a failing same-run baseline, recorded and intact.
    const bc = report.baseline_comparison;
    if (bc) {
      // The baseline's files were hashed with the run's: check its own manifest against those.
      const b = await checkIntegrity(join(runDir, "baseline"), "baseline/", nestedManifest(actual, "baseline"));
      problems.push(...b.problems);
      if (b.report) {
        if (b.report.status !== bc.baseline_status) problems.push(`baseline status is ${b.report.status} but the report says ${bc.baseline_status}`);
        if (b.report.fixture.digest !== report.fixture.digest) problems.push("baseline ran on a different fixture digest");
        if (b.report.backend !== "fake-noop") problems.push(`baseline backend is ${b.report.backend}, expected fake-noop`);
      }
      const baselineFailedItsTests = b.report ? b.report.status === "fail" && b.report.failure_reason === "tests failed" : false;
      if (bc.valid_for_pass_claim !== baselineFailedItsTests) problems.push("valid_for_pass_claim contradicts the baseline's own report");
    }
    problems.push(...(await crossCheck(runDir, report)));
    if (report.status === "pass") {
      if (report.failure_reason !== null) problems.push(`status is pass but failure_reason is ${report.failure_reason}`);
      if (report.agent_result?.protocol_valid === false) problems.push("status is pass but the agent result protocol failed");
      if (!report.case_process_started) problems.push("status is pass but no agent process was started");
      if (report.backend !== "fake-noop" && !bc?.valid_for_pass_claim) problems.push("status is pass without a valid same-run baseline");
      if (!report.tests?.passed) problems.push("status is pass but tests did not pass");
      if (report.model_traffic.fallback_detected) problems.push("status is pass but a model fallback was detected");
      if (report.secret_scan.findings > 0) problems.push("status is pass but the secret scan had findings");
      if (report.case_model_admission_status !== "admitted" || report.source_admission_status !== "admitted") {
        problems.push("status is pass but model or source was not admitted");
      }
    }
  }
  let leakFindings: { file: string; form: string }[] = [];
  const leakScan = opts.secrets && opts.secrets.length > 0 ? "done" : "skipped";
  if (leakScan === "done") {
    const scan = await scanRunDir(runDir, opts.secrets!, { redact: false });
    leakFindings = scan.findings;
    for (const f of scan.findings) problems.push(`secret value found in ${f.file} (${f.form})`);
  }
  return { ok: problems.length === 0, problems, report, leak_findings: leakFindings, leak_scan: leakScan };
}

/**
 * The report against the evidence files it summarises. A bundle whose files were all
 * rewritten and re-hashed passes the manifest check; these catch a report edited without
 * the evidence it claims (integrity, not authenticity: only re-judging proves a pass).
 */
async function crossCheck(runDir: string, report: Report): Promise<string[]> {
  const problems: string[] = [];
  const name = runDir.replace(/\/+$/, "").split("/").pop();
  if (report.role !== "baseline" && name !== report.run_id) problems.push(`run_id ${report.run_id} is not the directory's name (${name})`);
  const patchFile = join(runDir, "workspace.patch");
  if (existsSync(patchFile)) {
    const onDisk = await sha256File(patchFile);
    if (report.patch.sha256 !== onDisk.sha256 || report.patch.bytes !== onDisk.bytes) problems.push("report.patch does not match workspace.patch");
  } else {
    problems.push("workspace.patch is missing");
  }
  const changed = join(runDir, "changed-files.json");
  if (existsSync(changed)) {
    const list = await readJson(changed).catch(() => null);
    if (JSON.stringify(list) !== JSON.stringify(report.changed_files)) problems.push("report.changed_files does not match changed-files.json");
  }
  const testsFile = join(runDir, "tests", "result.json");
  if (report.tests) {
    const t = existsSync(testsFile) ? ((await readJson(testsFile).catch(() => null)) as { passed?: unknown; exit_code?: unknown } | null) : null;
    if (!t) problems.push("report.tests has no tests/result.json behind it");
    else if (t.passed !== report.tests.passed || t.exit_code !== report.tests.exit_code) problems.push("report.tests does not match tests/result.json");
  }
  for (const m of report.markers ?? []) if (!existsSync(join(runDir, m))) problems.push(`marker ${m} is listed but missing`);

  // What was asked (task.json) and what happened (trace, probe, proxy records) must agree with the report.
  const task = (await readJson(join(runDir, "task.json")).catch(() => null)) as Record<string, unknown> | null;
  if (!task) problems.push("task.json is missing or unreadable");
  else {
    if (task.engine !== report.backend) problems.push(`report.backend ${report.backend} but task.json asked for engine ${String(task.engine)}`);
    if (task.provider !== report.case_model_provider) problems.push(`report.case_model_provider ${report.case_model_provider} but task.json asked for provider ${String(task.provider)}`);
    if (task.model !== report.case_model) problems.push(`report.case_model ${report.case_model} but task.json asked for model ${String(task.model)}`);
    if (report.isolation_requested !== undefined && task.isolation !== report.isolation_requested) problems.push("report.isolation_requested does not match task.json");
    if (task.provider === "sim" && report.endpoint_kind !== "simulated") problems.push("a run on the simulator provider must say endpoint_kind simulated");
  }
  const events = await readTrace(join(runDir, "trace.jsonl"));
  const started = events.find((e) => e.type === "run_started");
  const finished = events.filter((e) => e.type === "run_finished").pop();
  if (!started || !finished) problems.push("trace.jsonl lacks run_started or run_finished");
  else {
    if (started.engine !== report.backend || started.provider !== report.case_model_provider || started.model !== report.case_model) problems.push("report disagrees with the trace's run_started (engine, provider or model)");
    if (started.harness_version !== report.harness_version) problems.push("report.harness_version disagrees with the trace");
    if (finished.status !== report.status || finished.failure_reason !== report.failure_reason) problems.push("report status disagrees with the trace's run_finished");
  }
  const probeFile = join(runDir, "probe.json");
  if (report.probe) {
    const p = existsSync(probeFile) ? ((await readJson(probeFile).catch(() => null)) as { classification?: unknown; verdict?: unknown; server?: { simulated?: unknown } } | null) : null;
    if (!p) problems.push("report.probe has no probe.json behind it");
    else {
      if (p.classification !== report.probe.classification || p.verdict !== report.probe.verdict) problems.push("report.probe does not match probe.json");
      if (p.server?.simulated === true && report.endpoint_kind !== "simulated") problems.push("probe.json saw the simulator but the report says endpoint_kind real");
    }
  }
  const requestsFile = join(runDir, "backend", "model-requests.jsonl");
  const records = existsSync(requestsFile) ? await readTrace(requestsFile) : [];
  if (records.length !== report.model_traffic.requests) problems.push(`report.model_traffic.requests ${report.model_traffic.requests} but backend/model-requests.jsonl has ${records.length}`);
  const seen: string[] = [];
  for (const r of [...records].sort((a, b) => Number(a.seq) - Number(b.seq))) {
    if (typeof r.model === "string" && !seen.includes(r.model)) seen.push(r.model);
  }
  if (JSON.stringify(seen) !== JSON.stringify(report.model_traffic.models_seen)) problems.push("report.model_traffic.models_seen does not match backend/model-requests.jsonl");
  return problems;
}

async function readTrace(path: string): Promise<Record<string, unknown>[]> {
  if (!existsSync(path)) return [];
  const text = await readFile(path, "utf8").catch(() => "");
  const out: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      out.push({ type: "unparseable" });
    }
  }
  return out;
}

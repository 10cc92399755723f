// Test helper: hand-made run bundles that are syntactically valid (schema-conformant
// report.json, manifest.json with correct hashes), for testing sot and loop logic
// without running anything.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createHash } from "node:crypto";
import { REPORT_SCHEMA, type Report } from "../../src/evidence/report.ts";
import { listFiles } from "../../src/evidence/files.ts";
import { readFile } from "node:fs/promises";

/** A real-endpoint Case run that failed on the result protocol, like the seed's evidence. */
export function makeReport(over: Partial<Report> & { run_id: string }): Report {
  const base: Report = {
    schema: REPORT_SCHEMA,
    run_id: over.run_id,
    harness_version: "0.1.0",
    created_at: "2026-06-01T02:25:35.000Z",
    finished_at: "2026-06-01T02:27:00.000Z",
    fixture: { id: "r1-string-slugify", digest: "sha256:" + "0".repeat(64) },
    status: "fail",
    failure_reason: "case agent result protocol failed",
    backend: "case",
    backend_exit_code: 1,
    case_process_started: true,
    case_model_provider: "qwen-local",
    case_model: "qwen3.6-35b-a3b",
    case_model_admission_status: "admitted",
    source_admission_status: "admitted",
    endpoint_kind: "real",
    probe: { classification: "content", verdict: "allow", budget: 1024, time_to_verdict_ms: 900 },
    model_traffic: { requests: 3, models_seen: ["qwen3.6-35b-a3b"], prompt_tokens: 100, completion_tokens: 50, fallback_detected: false },
    changed_files: [],
    patch: { path: "workspace.patch", bytes: 0, sha256: createHash("sha256").update("").digest("hex") },
    tests: { command: "npm test", exit_code: 1, passed: false, duration_ms: 1000 },
    baseline_comparison: { baseline_backend: "fake-noop", baseline_status: "fail", engine_status: "fail", valid_for_pass_claim: true },
    isolation: "bwrap",
    secret_scan: { files: 8, findings: 0 },
    timings: { total_ms: 85000 },
  };
  return { ...base, ...over };
}

/** The patch every hand-made passing bundle carries (verify checks report.patch against it). */
export const SAMPLE_PATCH = "diff --git a/src/slugify.js b/src/slugify.js\n--- a/src/slugify.js\n+++ b/src/slugify.js\n@@ -1 +1 @@\n-bug\n+fix\n";

export function passReport(run_id: string, over: Partial<Report> = {}): Report {
  return makeReport({
    run_id,
    status: "pass",
    failure_reason: null,
    backend_exit_code: 0,
    changed_files: ["src/slugify.js"],
    patch: { path: "workspace.patch", bytes: Buffer.byteLength(SAMPLE_PATCH), sha256: createHash("sha256").update(SAMPLE_PATCH).digest("hex") },
    tests: { command: "npm test", exit_code: 0, passed: true, duration_ms: 900 },
    baseline_comparison: { baseline_backend: "fake-noop", baseline_status: "fail", engine_status: "pass", valid_for_pass_claim: true },
    ...over,
  });
}

export function missingConfigReport(run_id: string, over: Partial<Report> = {}): Report {
  return makeReport({
    run_id,
    status: "blocked",
    failure_reason: "provider local config unavailable",
    backend_exit_code: null,
    case_process_started: false,
    probe: null,
    model_traffic: { requests: 0, models_seen: [], prompt_tokens: 0, completion_tokens: 0, fallback_detected: false },
    tests: null,
    baseline_comparison: null,
    ...over,
  });
}

/** Writes a bundle at `dir` with a correct manifest.json; `files` adds/overrides files (relative paths). */
export async function writeBundle(dir: string, report: Report, files: Record<string, string> = {}): Promise<string> {
  const all: Record<string, string> = {
    "report.json": JSON.stringify(report, null, 2) + "\n",
    "task.json": JSON.stringify({ fixture: report.fixture, engine: report.backend, provider: report.case_model_provider, model: report.case_model, isolation: report.isolation_requested ?? report.isolation }) + "\n",
    // verify checks the report against what the trace, the probe and the proxy records say.
    "trace.jsonl":
      JSON.stringify({ seq: 1, ts: report.created_at, type: "run_started", engine: report.backend, provider: report.case_model_provider, model: report.case_model, harness_version: report.harness_version }) +
      "\n" +
      JSON.stringify({ seq: 2, ts: report.finished_at, type: "run_finished", status: report.status, failure_reason: report.failure_reason }) +
      "\n",
    ...(report.probe ? { "probe.json": JSON.stringify({ classification: report.probe.classification, verdict: report.probe.verdict, server: { simulated: report.endpoint_kind === "simulated" } }) + "\n" } : {}),
    "backend/model-requests.jsonl": Array.from({ length: report.model_traffic.requests }, (_, i) =>
      JSON.stringify({ seq: i + 1, model: report.model_traffic.models_seen[Math.min(i, report.model_traffic.models_seen.length - 1)] ?? null }) + "\n",
    ).join(""),
    "backend/stdout.log": "",
    "backend/stderr.log": "",
    "workspace.patch": report.patch.bytes > 0 ? SAMPLE_PATCH : "",
    "changed-files.json": JSON.stringify(report.changed_files) + "\n",
    ...(report.tests ? { "tests/result.json": JSON.stringify(report.tests) + "\n" } : {}),
    ...Object.fromEntries((report.markers ?? []).map((m) => [m, "marker\n"])),
    ...files,
  };
  if (report.failure_reason === "provider local config unavailable" && !("backend/provider-local-config-unavailable.txt" in files)) {
    all["backend/provider-local-config-unavailable.txt"] = "Found: CTO_HARNESS_CASE_LOCAL_BASE_URL is not set.\n";
  }
  const bc = report.baseline_comparison;
  if (bc && !Object.keys(files).some((f) => f.startsWith("baseline/"))) {
    // The same-run baseline is a bundle of its own inside the run's bundle (verify checks it).
    const baseline = makeReport({
      run_id: `${report.run_id}-baseline`,
      fixture: report.fixture,
      backend: "fake-noop",
      status: bc.baseline_status,
      failure_reason: bc.baseline_status === "fail" ? "tests failed" : null,
      backend_exit_code: 0,
      case_process_started: false,
      probe: null,
      model_traffic: { requests: 0, models_seen: [], prompt_tokens: 0, completion_tokens: 0, fallback_detected: false },
      tests: { command: "npm test", exit_code: bc.baseline_status === "fail" ? 1 : 0, passed: bc.baseline_status !== "fail", duration_ms: 500 },
      baseline_comparison: null,
      role: "baseline",
    });
    await writeBundle(join(dir, "baseline"), baseline);
  }
  for (const [rel, content] of Object.entries(all)) {
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    await writeFile(join(dir, rel), content);
  }
  await writeManifestFile(dir);
  return dir;
}

/** manifest.json listing every other file: `{schema, files:[{path, sha256, bytes}]}`. */
export async function writeManifestFile(dir: string): Promise<void> {
  const entries = [];
  for (const p of await listFiles(dir)) {
    if (p === "manifest.json") continue;
    const buf = await readFile(join(dir, p));
    entries.push({ path: p, sha256: createHash("sha256").update(buf).digest("hex"), bytes: buf.length });
  }
  await writeFile(join(dir, "manifest.json"), JSON.stringify({ schema: "cto-harness/manifest@1", files: entries }, null, 2) + "\n");
}

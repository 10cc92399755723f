// `sot evidence RUN_DIR`: a dated evidence section in the record's own style, ready to
// paste into the planning record. Pure: the caller verifies the bundle first and redacts.
import type { Report } from "../evidence/report.ts";

export interface EvidenceInput {
  report: Report;
  /** The run dir exactly as the user gave it (the only path the section names). */
  runDir: string;
  /** Files of the bundle, relative (`backend/x.txt`). */
  files: string[];
  title?: string;
}

const code = (v: unknown): string => `\`${v === null || v === undefined ? "null" : String(v)}\``;

export function defaultTitle(report: Report): string {
  const who = report.backend === "case" ? "Case" : report.backend;
  const kind = report.endpoint_kind === "real" ? "" : " Simulated";
  return `Harness ${who}${kind} Run Evidence`;
}

/**
 * Whether the run reached the endpoint: a probe result or a model request proves it. A run
 * blocked before contact (endpoint variable unset, model not admitted, ...) says nothing
 * about the endpoint, whatever kind its provider is.
 */
export function endpointContacted(r: Report): boolean {
  return r.probe !== null || r.model_traffic.requests > 0;
}

export function renderEvidenceSection(input: EvidenceInput): string {
  const r = input.report;
  const contacted = endpointContacted(r);
  const date = (r.finished_at || r.created_at).slice(0, 10);
  const b: string[] = [];
  b.push(`Run artifact directory: ${code(input.runDir)}.`);
  b.push(`Run id: ${code(r.run_id)}.`);
  b.push(`Fixture: ${code(r.fixture.id)}.`);
  b.push(`Report status: ${code(r.status)}.`);
  b.push(`Backend: ${code(r.backend)}.`);
  b.push(`Backend exit code: ${code(r.backend_exit_code)}.`);
  b.push(`Case process started: ${code(r.case_process_started)}.`);
  b.push(`Case model provider: ${code(r.case_model_provider)}.`);
  b.push(`Case model: ${code(r.case_model)}.`);
  b.push(`Case model admission status: ${code(r.case_model_admission_status)}.`);
  b.push(`Source admission status: ${code(r.source_admission_status)}.`);
  if (contacted || r.endpoint_kind !== "real") b.push(`Endpoint kind: ${code(r.endpoint_kind)}.`);
  else b.push(`Endpoint: not contacted (no probe, no model request); provider ${code(r.case_model_provider)} names a real endpoint, but this run never reached it.`);
  if (r.failure_reason) b.push(`Failure reason: ${code(r.failure_reason)}.`);
  const markers = input.files.filter((f) => /^backend\/[^/]+\.txt$/.test(f) && !/^backend\/(stdout|stderr)\.log$/.test(f));
  for (const m of markers) b.push(`Marker: ${code(m)}.`);
  if (r.probe) b.push(`Response-shape probe: ${code(r.probe.classification)} (${r.probe.verdict}, max_tokens=${r.probe.budget}).`);
  const t = r.model_traffic;
  b.push(
    `Model traffic: ${t.requests} request(s); models seen: ${t.models_seen.length ? t.models_seen.map(code).join(", ") : "none"}; fallback detected: ${code(t.fallback_detected)}.`,
  );
  if (r.changed_files.length === 0) b.push("The harness recorded no changed files.");
  else b.push(`Changed files: ${r.changed_files.map(code).join(", ")}.`);
  if (r.patch.bytes === 0) b.push("The patch artifact was empty.");
  else b.push(`Patch artifact: ${code(r.patch.path)}, ${r.patch.bytes} bytes, sha256 ${code(r.patch.sha256)}.`);
  if (r.tests) b.push(r.tests.passed ? `Tests passed (exit code ${code(r.tests.exit_code)}).` : `Tests failed (exit code ${code(r.tests.exit_code)}).`);
  else b.push("Tests were not run.");
  const bc = r.baseline_comparison;
  if (bc) {
    b.push(
      `Same-run baseline: ${code(bc.baseline_backend)} ended ${code(bc.baseline_status)}; valid for pass claim: ${code(bc.valid_for_pass_claim)}.`,
    );
  } else b.push("Same-run baseline: none.");
  b.push(
    r.case_process_started
      ? `Isolation: ${code(r.isolation)}.`
      : `Isolation: ${code(r.isolation_requested ?? r.isolation)} requested; the agent was never started in it.`,
  );
  b.push(`Secret scan: ${r.secret_scan.files} file(s), ${r.secret_scan.findings} finding(s).`);
  b.push(`Bundle verified: manifest hashes${bc ? ", report schema and same-run baseline" : " and report schema"} checked by \`cto-harness verify\`.`);
  if (r.endpoint_kind !== "real") b.push("This run used a simulated endpoint: it proves harness behaviour, not the real endpoint.");
  else if (contacted) b.push("The endpoint value was supplied only through runtime environment and is not recorded in this evidence.");
  else {
    b.push(
      "The endpoint was not contacted: the run ended before any probe or model request" +
        (r.failure_reason === "provider local config unavailable" ? " (no endpoint value was supplied)" : "") +
        ", so it proves nothing about the endpoint.",
    );
  }
  if (r.status === "pass" && r.backend.startsWith("fake-")) b.push(`\`${r.backend}\` is a reference engine: its pass validates the fixture, not an agent.`);
  else if (r.status === "pass" && bc?.valid_for_pass_claim && r.endpoint_kind === "real" && contacted) b.push("This is real-endpoint pass evidence through the Harness Evidence Interface.");
  else if (r.status === "pass" && bc?.valid_for_pass_claim) b.push("This pass has a valid same-run baseline but used a simulated endpoint.");
  else if (r.status === "pass") b.push("This pass is not valid for a pass claim (no failed same-run baseline).");
  return [`## ${input.title ?? defaultTitle(r)} - ${date}`, "", ...b.map((x) => `- ${x}`), ""].join("\n");
}

/** Replaces home-directory paths (other than the run dir itself) with `~`. */
export function stripHomePaths(text: string, home: string, keep: string): string {
  if (!home || home === "/") return text;
  const placeholder = "\u0000KEEP\u0000";
  return text.split(keep).map((part) => part.split(home).join("~")).join(placeholder).split(placeholder).join(keep);
}

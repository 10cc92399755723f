// Which acceptance lines can be checked mechanically, and how: each recognised line
// becomes a Rule; a Rule is judged against verified run bundles. Pure: no file system.
//
// The principle: a line is `proven` only by a bundle that passed `verifyBundle`, and a
// line about a real endpoint only by a run whose `endpoint_kind` is `real`. A simulated
// run proves the harness's own behaviour (gates, markers, baselines), never the endpoint.
import type { Report } from "../evidence/report.ts";

/** A run bundle that passed verifyBundle. */
export interface VerifiedRun {
  /** Run directory as the user named it (relative to --runs when possible). */
  dir: string;
  report: Report;
  /** Paths of the bundle's files relative to the run dir (`backend/x.txt`, ...). */
  files: string[];
}

/** A bundle that did not pass verifyBundle: it counts for nothing. */
export interface RejectedRun {
  dir: string;
  problems: string[];
}

export type Rule =
  | { kind: "report_field"; field: string; value: string }
  | { kind: "no_fallback"; forbidden: string[] }
  | { kind: "blocks_before_process"; failureReason: string }
  | { kind: "marker"; path: string; failureReason: string | null }
  | { kind: "baseline_required" }
  | { kind: "no_endpoint_leak" }
  | { kind: "blocked_until"; subject: string; condition: Condition }
  | { kind: "supplied_at_runtime"; variable: string }
  | { kind: "real_pass_exists"; caseOnly: boolean }
  | { kind: "protected_path_never_read" };

/** What a "remains blocked until ..." line waits for. */
export interface Condition {
  realPass: boolean;
  caseOnly: boolean;
  endpointSupplied: boolean;
}

export type Verdict =
  | { verdict: "proven"; rule: Rule["kind"]; runs: string[]; note?: string }
  | { verdict: "unproven"; rule: Rule["kind"]; why: string; runs?: string[] }
  | { verdict: "manual"; why: string };

/** Context an item gives its lines: the provider/model it is about (from its own lines). */
export interface ItemContext {
  provider: string | null;
  model: string | null;
  /** Env variable name → provider name (e.g. CTO_HARNESS_CASE_LOCAL_BASE_URL → qwen-local). */
  providerOfVariable: Record<string, string>;
}

const SOURCE_NOT_ADMITTED = "source not admitted";

/** Failure reason implied by "Missing endpoint config" (DESIGN §6). */
const MISSING_CONFIG_REASON = "provider local config unavailable";

const backticked = (s: string): string[] => [...s.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

/** Recognises a line; null means it cannot be checked mechanically. */
export function ruleFor(text: string): Rule | null {
  let m: RegExpExecArray | null;
  if ((m = /Harness report proves no fallback to (.+)$/i.exec(text))) {
    const forbidden = backticked(m[1]!);
    if (forbidden.length > 0) return { kind: "no_fallback", forbidden };
  }
  if ((m = /Harness report proves `([A-Za-z0-9_.]+)`\s*:\s*`([^`]*)`/.exec(text))) {
    return { kind: "report_field", field: m[1]!, value: m[2]! };
  }
  if (/missing (local )?(endpoint|provider) config\w*\s+blocks before `?case_process_started`?/i.test(text)) {
    return { kind: "blocks_before_process", failureReason: MISSING_CONFIG_REASON };
  }
  if ((m = /writes `(backend\/[^`]+)`/.exec(text))) {
    const reason = /missing (local )?(endpoint|provider) config/i.test(text) ? MISSING_CONFIG_REASON : null;
    return { kind: "marker", path: m[1]!, failureReason: reason };
  }
  if (/same-run (fake )?baseline comparison remains required for any pass claim/i.test(text)) {
    return { kind: "baseline_required" };
  }
  if (/endpoint values? (is |are )?not (written|recorded|stored)/i.test(text)) {
    return { kind: "no_endpoint_leak" };
  }
  if ((m = /^(?:`([^`]+)`|(.+?))\s+remains blocked until (.+?)\.?$/i.exec(text))) {
    const subject = (m[1] ?? m[2]!).trim();
    const cond = conditionFrom(m[3]!);
    if (cond) return { kind: "blocked_until", subject, condition: cond };
    return null;
  }
  if ((m = /^`([A-Z][A-Z0-9_]*)` is supplied at runtime/.exec(text))) {
    return { kind: "supplied_at_runtime", variable: m[1]! };
  }
  if (/no target repository path may be (inspected|read|copied)/i.test(text)) {
    return { kind: "protected_path_never_read" };
  }
  if (/^real (case )?stage 2 pass evidence exists/i.test(text)) {
    return { kind: "real_pass_exists", caseOnly: /\bcase\b/i.test(text) };
  }
  return null;
}

export function conditionFrom(text: string): Condition | null {
  const realPass = /\bpass\b/i.test(text);
  const endpointSupplied = /supplied at runtime|endpoint config|configured endpoint/i.test(text);
  if (!realPass && !endpointSupplied) return null;
  return { realPass, caseOnly: /\bcase\b/i.test(text), endpointSupplied };
}

const isReal = (r: VerifiedRun): boolean => r.report.endpoint_kind === "real";

/**
 * A real pass that counts: verified, real endpoint, same-run baseline failed, no fallback,
 * no leak, the agent sandboxed (without bubblewrap the agent could read the real URL from
 * its parent's environment and reach any model), and the admitted model did the work.
 */
export function isRealPass(r: VerifiedRun, caseOnly: boolean): boolean {
  const rep = r.report;
  return (
    isReal(r) &&
    rep.status === "pass" &&
    rep.isolation === "bwrap" &&
    (rep.model_traffic.answered_by_admitted_model ?? rep.model_traffic.requests) > 0 &&
    rep.baseline_comparison?.valid_for_pass_claim === true &&
    rep.baseline_comparison.baseline_status === "fail" &&
    !rep.model_traffic.fallback_detected &&
    rep.secret_scan.findings === 0 &&
    (!caseOnly || rep.backend === "case")
  );
}

function fieldValue(report: Report, field: string): unknown {
  let cur: unknown = report;
  for (const part of field.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function sameValue(actual: unknown, expected: string): boolean {
  if (actual === undefined) return false;
  if (actual === null) return expected === "null";
  if (typeof actual === "object") return false;
  return String(actual) === expected;
}

/** Whether a "blocked until" condition is met by the evidence; the run naming it when met. */
export function conditionMet(cond: Condition, runs: VerifiedRun[], ctx: ItemContext): { met: boolean; run?: string; why: string } {
  if (cond.realPass) {
    const pass = runs.find((r) => isRealPass(r, cond.caseOnly) && matchesContext(r, ctx));
    if (pass) return { met: true, run: pass.dir, why: "" };
    return {
      met: false,
      why: `no verified real-endpoint ${cond.caseOnly ? "Case " : ""}pass run (status pass, endpoint_kind real, same-run baseline failed)${ctxText(ctx)}`,
    };
  }
  const started = runs.find((r) => isReal(r) && r.report.case_process_started && matchesContext(r, ctx));
  if (started) return { met: true, run: started.dir, why: "" };
  return { met: false, why: `no verified real-endpoint run that started the agent${ctxText(ctx)}` };
}

function matchesContext(r: VerifiedRun, ctx: ItemContext): boolean {
  return (!ctx.provider || r.report.case_model_provider === ctx.provider) && (!ctx.model || r.report.case_model === ctx.model);
}

function ctxText(ctx: ItemContext): string {
  const parts = [ctx.provider && `provider ${ctx.provider}`, ctx.model && `model ${ctx.model}`].filter(Boolean);
  return parts.length ? ` for ${parts.join(", ")}` : "";
}

const names = (runs: VerifiedRun[], max = 3): string[] => runs.slice(0, max).map((r) => r.dir);

/**
 * Judges one rule. `rejected` is consulted only for leak evidence (a bundle rejected for a
 * leak is evidence against "endpoint values are not written").
 */
export function judge(rule: Rule, runs: VerifiedRun[], rejected: RejectedRun[], ctx: ItemContext, recordLeaks: number): Verdict {
  switch (rule.kind) {
    case "report_field": {
      // A report field claim about the endpoint path: only real runs count.
      const real = runs.filter(isReal);
      const hit = real.filter((r) => sameValue(fieldValue(r.report, rule.field), rule.value));
      if (hit.length > 0) return { verdict: "proven", rule: rule.kind, runs: names(hit) };
      const simHit = runs.filter((r) => !isReal(r) && sameValue(fieldValue(r.report, rule.field), rule.value));
      return {
        verdict: "unproven",
        rule: rule.kind,
        why:
          `no verified real-endpoint run whose report has ${rule.field} = ${rule.value}` +
          (simHit.length > 0 ? ` (${simHit.length} simulated run(s) do, but simulated runs prove nothing about a real endpoint)` : ""),
      };
    }
    case "no_fallback": {
      const relevant = runs.filter((r) => isReal(r) && matchesContext(r, ctx));
      const bad = relevant.filter(
        (r) =>
          r.report.model_traffic.fallback_detected ||
          r.report.model_traffic.models_seen.some((m) => rule.forbidden.includes(m)) ||
          rule.forbidden.includes(r.report.case_model_provider) ||
          rule.forbidden.includes(r.report.case_model),
      );
      if (bad.length > 0) {
        return { verdict: "unproven", rule: rule.kind, why: `fallback seen in ${names(bad).join(", ")}`, runs: names(bad) };
      }
      // A run with no model traffic proves nothing about fallback.
      const good = relevant.filter((r) => r.report.case_process_started && r.report.model_traffic.requests > 0);
      if (good.length > 0) return { verdict: "proven", rule: rule.kind, runs: names(good) };
      return {
        verdict: "unproven",
        rule: rule.kind,
        why: `no verified real-endpoint run with model traffic${ctxText(ctx)} (a run that made no model request proves nothing about fallback)`,
      };
    }
    case "blocks_before_process": {
      const withReason = runs.filter((r) => r.report.failure_reason === rule.failureReason);
      const bad = withReason.filter((r) => r.report.case_process_started || r.report.status !== "blocked");
      if (bad.length > 0) {
        return { verdict: "unproven", rule: rule.kind, why: `run(s) with '${rule.failureReason}' still started the agent or were not blocked: ${names(bad).join(", ")}`, runs: names(bad) };
      }
      if (withReason.length > 0) return { verdict: "proven", rule: rule.kind, runs: names(withReason) };
      return { verdict: "unproven", rule: rule.kind, why: `no verified run with failure_reason '${rule.failureReason}' and case_process_started false` };
    }
    case "marker": {
      const hit = runs.filter(
        (r) => r.files.includes(rule.path) && (rule.failureReason === null || r.report.failure_reason === rule.failureReason),
      );
      if (hit.length > 0) return { verdict: "proven", rule: rule.kind, runs: names(hit) };
      return {
        verdict: "unproven",
        rule: rule.kind,
        why: `no verified run has ${rule.path}` + (rule.failureReason ? ` with failure_reason '${rule.failureReason}'` : ""),
      };
    }
    case "baseline_required": {
      const passes = runs.filter((r) => r.report.status === "pass");
      const bad = passes.filter(
        (r) => r.report.baseline_comparison?.valid_for_pass_claim !== true || r.report.baseline_comparison.baseline_status !== "fail",
      );
      if (bad.length > 0) {
        return { verdict: "unproven", rule: rule.kind, why: `pass run(s) without a failed same-run baseline: ${names(bad).join(", ")}`, runs: names(bad) };
      }
      if (passes.length > 0) return { verdict: "proven", rule: rule.kind, runs: names(passes), note: `all ${passes.length} pass run(s) have a failed same-run baseline` };
      return { verdict: "unproven", rule: rule.kind, why: "no pass run exists yet, so no pass claim shows the comparison applied" };
    }
    case "no_endpoint_leak": {
      const leakyRejected = rejected.filter((r) => r.problems.some((p) => /secret|leak/i.test(p)));
      const leakyReports = runs.filter((r) => r.report.secret_scan.findings > 0);
      if (recordLeaks > 0) return { verdict: "unproven", rule: rule.kind, why: "this record itself contains an endpoint value (see leak findings)" };
      if (leakyRejected.length > 0 || leakyReports.length > 0) {
        const dirs = [...leakyRejected.map((r) => r.dir), ...leakyReports.map((r) => r.dir)];
        return { verdict: "unproven", rule: rule.kind, why: `secret leak found in ${dirs.slice(0, 3).join(", ")}`, runs: dirs.slice(0, 3) };
      }
      // Only a run that reached the endpoint had its value in play: a run blocked before contact proves nothing here.
      const real = runs.filter((r) => isReal(r) && (r.report.probe !== null || r.report.model_traffic.requests > 0));
      if (real.length > 0) {
        return {
          verdict: "proven",
          rule: rule.kind,
          runs: names(real),
          note: "bundle files and this record scanned clean; commits and process argv are not checked by sot",
        };
      }
      return { verdict: "unproven", rule: rule.kind, why: "no verified run that reached the real endpoint (probe or model request) to show the endpoint value stayed out of its bundle" };
    }
    case "blocked_until": {
      const c = conditionMet(rule.condition, runs, ctx);
      if (c.met) return { verdict: "proven", rule: rule.kind, runs: [c.run!], note: `condition met; ${rule.subject} may be unblocked` };
      return { verdict: "unproven", rule: rule.kind, why: `${c.why}; ${rule.subject} must stay blocked` };
    }
    case "supplied_at_runtime": {
      const provider = ctx.providerOfVariable[rule.variable] ?? null;
      const hit = runs.filter((r) => isReal(r) && r.report.case_process_started && (!provider || r.report.case_model_provider === provider));
      if (hit.length > 0) return { verdict: "proven", rule: rule.kind, runs: names(hit) };
      return {
        verdict: "unproven",
        rule: rule.kind,
        why: `no verified real-endpoint run${provider ? ` of provider ${provider}` : ""} that started the agent (which needs ${rule.variable} at runtime)`,
      };
    }
    case "protected_path_never_read": {
      // Harness behaviour, so a simulated run counts: the validator case
      // `protected_target_path_never_read` puts the fixture under CTO_HARNESS_PROTECTED_PATHS.
      const refused = runs.filter((r) => r.report.failure_reason === SOURCE_NOT_ADMITTED);
      const bad = refused.filter((r) => r.report.case_process_started || r.report.source_admission_status !== "not_admitted" || r.report.status !== "blocked");
      if (bad.length > 0) {
        return { verdict: "unproven", rule: rule.kind, why: `run(s) with '${SOURCE_NOT_ADMITTED}' still started the agent or were not blocked: ${names(bad).join(", ")}`, runs: names(bad) };
      }
      if (refused.length > 0) {
        return {
          verdict: "proven",
          rule: rule.kind,
          runs: names(refused),
          note: "a protected fixture was refused before the agent started (source_admission_status not_admitted, case_process_started false)",
        };
      }
      return {
        verdict: "unproven",
        rule: rule.kind,
        why: `no verified run refused a protected path (failure_reason '${SOURCE_NOT_ADMITTED}', source_admission_status not_admitted, case_process_started false); run \`cto-harness validate protected_target_path_never_read\``,
      };
    }
    case "real_pass_exists": {
      const hit = runs.filter((r) => isRealPass(r, rule.caseOnly) && matchesContext(r, ctx));
      if (hit.length > 0) return { verdict: "proven", rule: rule.kind, runs: names(hit) };
      return { verdict: "unproven", rule: rule.kind, why: `no verified real-endpoint ${rule.caseOnly ? "Case " : ""}pass run with a failed same-run baseline${ctxText(ctx)}` };
    }
  }
}

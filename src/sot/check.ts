// The planning-document gate: judges every acceptance line of every work item against
// verified run bundles, flags over-claims and items ready to promote. Pure.
import type { SotRecord, WorkItem } from "./parse.ts";
import type { RecordLeak } from "./leaks.ts";
import { judge, ruleFor, conditionMet, type ItemContext, type RejectedRun, type Rule, type VerifiedRun } from "./rules.ts";

export const SOT_CHECK_SCHEMA = "cto-harness/sot-check@1";

/** Statuses that claim the work is finished: every checkable line must then be proven. */
export const DONE_STATUSES = new Set(["done", "passed", "pass", "complete", "completed", "validated", "proven", "promoted"]);

export interface LineResult {
  line: number;
  text: string;
  /**
   * `satisfied`: a "remains blocked until" line whose condition is not met yet while its
   * subject is still blocked (or not claimed otherwise here), as the line requires.
   */
  verdict: "proven" | "unproven" | "satisfied" | "manual";
  rule: string | null;
  /** Run dirs that prove it (or that contradict it, for unproven). */
  runs: string[];
  why: string | null;
  note: string | null;
}

export interface ItemResult {
  id: string;
  title: string;
  status: string;
  line: number;
  lines: LineResult[];
  counts: { proven: number; unproven: number; satisfied: number; manual: number };
  over_claims: string[];
  ready_to_promote: boolean;
}

export interface OverClaim {
  item: string;
  status: string;
  reason: string;
  /** Line of the record that makes the claim or constraint. */
  line: number;
}

export interface SotCheckResult {
  schema: typeof SOT_CHECK_SCHEMA;
  record: string;
  runs_dir: string;
  bundles: { verified: number; rejected: RejectedRun[]; real: number; simulated: number };
  items: ItemResult[];
  over_claims: OverClaim[];
  ready_to_promote: string[];
  record_leaks: RecordLeak[];
  /** Whether secret values were available in the environment to scan for. */
  secrets_scanned: number;
  /** The record was one line (line breaks lost) and was reflowed before parsing; line numbers refer to the reflowed text. */
  record_reflowed: boolean;
  /** `--require-signed`: only bundles signed by one of these keyids counted (absent otherwise). */
  require_signed?: { trusted_keyids: string[] };
  ok: boolean;
}

export interface CheckInput {
  record: SotRecord;
  recordPath: string;
  runsDir: string;
  runs: VerifiedRun[];
  rejected: RejectedRun[];
  recordLeaks: RecordLeak[];
  secretsScanned: number;
  /** Env variable name → provider name. */
  providerOfVariable: Record<string, string>;
}

export function contextOf(item: WorkItem, providerOfVariable: Record<string, string>): ItemContext {
  let provider: string | null = null;
  let model: string | null = null;
  for (const l of item.acceptance) {
    const r = ruleFor(l.text);
    if (r?.kind === "report_field" && r.field === "case_model_provider") provider = r.value;
    if (r?.kind === "report_field" && r.field === "case_model") model = r.value;
  }
  return { provider, model, providerOfVariable };
}

export function checkRecord(input: CheckInput): SotCheckResult {
  const { record, runs, rejected } = input;
  const recordLeakCount = input.recordLeaks.length;
  const contexts = new Map(record.items.map((it) => [it.id, contextOf(it, input.providerOfVariable)]));
  const statusOf = new Map(record.items.map((it) => [it.id, it.status!]));
  const overClaims: OverClaim[] = [];

  const items: ItemResult[] = record.items.map((item) => {
    const ctx = contexts.get(item.id)!;
    const lines: LineResult[] = item.acceptance.map((l) => {
      const rule = ruleFor(l.text);
      if (!rule) return { line: l.line, text: l.text, verdict: "manual", rule: null, runs: [], why: "cannot be checked mechanically", note: null };
      const v = judge(rule, runs, rejected, ctx, recordLeakCount);
      if (rule.kind === "blocked_until" && v.verdict === "unproven") {
        // Not met yet: the line is kept while its subject stays blocked; only a subject whose
        // status says otherwise violates it.
        const subjectStatus = statusOf.get(rule.subject);
        if (subjectStatus === undefined || subjectStatus === "blocked") {
          const still =
            subjectStatus === "blocked"
              ? `${rule.subject} is still blocked, as required`
              : `${rule.subject} is not a work item of this record, so nothing here claims it is unblocked`;
          return { line: l.line, text: l.text, verdict: "satisfied", rule: rule.kind, runs: [], why: null, note: `condition not met yet; ${still}` };
        }
        return {
          line: l.line, text: l.text, verdict: "unproven", rule: rule.kind, runs: [], note: null,
          why: `violated: ${rule.subject} has status '${subjectStatus}' but the condition is not met (${v.why.replace(/; [^;]*must stay blocked$/, "")})`,
        };
      }
      if (v.verdict === "manual") return { line: l.line, text: l.text, verdict: "manual", rule: null, runs: [], why: v.why, note: null };
      return {
        line: l.line,
        text: l.text,
        verdict: v.verdict,
        rule: v.rule,
        runs: v.runs ?? [],
        why: v.verdict === "unproven" ? v.why : null,
        note: v.verdict === "proven" ? (v.note ?? null) : null,
      };
    });
    const counts = {
      proven: lines.filter((l) => l.verdict === "proven").length,
      unproven: lines.filter((l) => l.verdict === "unproven").length,
      satisfied: lines.filter((l) => l.verdict === "satisfied").length,
      manual: lines.filter((l) => l.verdict === "manual").length,
    };
    const itemOverClaims: string[] = [];
    if (DONE_STATUSES.has(item.status!) && counts.unproven > 0) {
      itemOverClaims.push(`status '${item.status}' but ${counts.unproven} checkable acceptance line(s) are unproven`);
    }
    const checkable = counts.proven + counts.unproven;
    // An item that its own line keeps blocked is not ready while that holds.
    const keptBlocked = lines.some((l) => l.verdict === "satisfied" && ruleFor(l.text)?.kind === "blocked_until" && (ruleFor(l.text) as { subject: string }).subject === item.id);
    return {
      id: item.id,
      title: item.title,
      status: item.status!,
      line: item.line,
      lines,
      counts,
      over_claims: itemOverClaims,
      ready_to_promote: checkable > 0 && counts.unproven === 0 && !keptBlocked && !DONE_STATUSES.has(item.status!),
    };
  });
  for (const it of items) for (const reason of it.over_claims) overClaims.push({ item: it.id, status: it.status, reason, line: it.line });

  // "X remains blocked until ..." constraints, wherever the record states them (acceptance
  // lines and dated evidence sections alike), bind X's status.
  const constraints: { owner: string | null; text: string; line: number; rule: Extract<Rule, { kind: "blocked_until" }> }[] = [];
  for (const item of record.items) {
    for (const l of item.acceptance) {
      const r = ruleFor(l.text);
      if (r?.kind === "blocked_until") constraints.push({ owner: item.id, text: l.text, line: l.line, rule: r });
    }
  }
  for (const sec of record.evidence) {
    for (const b of sec.bullets) {
      const r = ruleFor(b.text);
      if (r?.kind === "blocked_until") constraints.push({ owner: null, text: b.text, line: b.line, rule: r });
    }
  }
  for (const c of constraints) {
    const status = statusOf.get(c.rule.subject);
    if (status === undefined || status === "blocked") continue;
    const ctx = contexts.get(c.owner ?? c.rule.subject) ?? contexts.get(c.rule.subject)!;
    const met = conditionMet(c.rule.condition, runs, ctx);
    if (!met.met) {
      const reason = `status '${status}' but line ${c.line} says it remains blocked until its condition holds: ${met.why}`;
      overClaims.push({ item: c.rule.subject, status, reason, line: c.line });
      items.find((it) => it.id === c.rule.subject)?.over_claims.push(reason);
      const target = items.find((it) => it.id === c.rule.subject);
      if (target) target.ready_to_promote = false;
    }
  }

  const real = runs.filter((r) => r.report.endpoint_kind === "real").length;
  return {
    schema: SOT_CHECK_SCHEMA,
    record: input.recordPath,
    runs_dir: input.runsDir,
    bundles: { verified: runs.length, rejected, real, simulated: runs.length - real },
    items,
    over_claims: overClaims,
    ready_to_promote: items.filter((it) => it.ready_to_promote).map((it) => it.id),
    record_leaks: input.recordLeaks,
    secrets_scanned: input.secretsScanned,
    record_reflowed: false,
    ok: overClaims.length === 0 && input.recordLeaks.length === 0,
  };
}

// `sot check` and `sot evidence` as functions (the CLI and tests call these).
import { isRealPass } from "./rules.ts";
import { readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { resolve } from "node:path";
import { loadProviderSpecs, secretValuesInEnv } from "../config/providers.ts";
import { listFiles } from "../evidence/files.ts";
import { UsageError } from "../cli/exit-codes.ts";
import { parseSot, SotFormatError } from "./parse.ts";
import { looksFlattened, reflowRecord } from "./reflow.ts";
import { scanRecordText } from "./leaks.ts";
import { loadEvidence, defaultVerify, type VerifyFn } from "./bundles.ts";
import { checkRecord, type SotCheckResult } from "./check.ts";
import { renderEvidenceSection, stripHomePaths } from "./evidence.ts";
import { signedVerifier } from "../attest/bundle.ts";
import type { TrustedKeys } from "../attest/keys.ts";

export interface SotCheckOptions {
  env: NodeJS.ProcessEnv;
  verify?: VerifyFn;
  cwd?: string;
  /** Re-judge every real pass claim (apply its patch to the fixture, run the tests again) before it may prove anything. */
  rejudge?: boolean;
  /** `--require-signed --keys DIR`: a bundle counts only when signed by one of these keys (src/attest). */
  trustedKeys?: TrustedKeys;
}

export async function sotCheck(file: string, runsDir: string, opts: SotCheckOptions): Promise<SotCheckResult> {
  const cwd = opts.cwd ?? process.cwd();
  let text: string;
  try {
    text = await readFile(resolve(cwd, file), "utf8");
  } catch (error) {
    throw new UsageError(`cannot read planning record ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  // A record whose line breaks were lost is put back into its structured form first; the
  // result says so (line numbers then refer to the reflowed text).
  const reflowed = looksFlattened(text);
  if (reflowed) text = reflowRecord(text);
  let record;
  try {
    record = parseSot(text);
  } catch (error) {
    if (error instanceof SotFormatError) {
      throw new UsageError(`${file} is not in the expected form${reflowed ? " (even after reflowing its single line)" : ""}: ${error.message}`);
    }
    throw error;
  }
  const runsAbs = resolve(cwd, runsDir);
  try {
    if (!(await stat(runsAbs)).isDirectory()) throw new Error("not a directory");
  } catch {
    throw new UsageError(`--runs ${runsDir}: not a directory; expected a directory holding run bundles (report.json + manifest.json)`);
  }
  const secrets = secretValuesInEnv(opts.env, cwd);
  const providerOfVariable: Record<string, string> = {};
  for (const spec of Object.values(loadProviderSpecs(cwd))) if (spec.urlVar) providerOfVariable[spec.urlVar] = spec.name;
  // Signed evidence: the signature is checked before the manifest and files (attest/bundle.ts).
  const verify = opts.trustedKeys ? signedVerifier(opts.trustedKeys) : opts.verify;
  const { runs, rejected } = await loadEvidence(runsAbs, {
    secrets,
    verify,
    display: (d) => {
      const rel = d.slice(runsAbs.length).replace(/^\/+/, "");
      return rel ? `${runsDir.replace(/\/+$/, "")}/${rel}` : runsDir;
    },
  });
  if (opts.rejudge) {
    // Hashes prove a bundle unchanged, not honest: a real pass must also survive re-judging.
    const { rejudgeBundle } = await import("../evidence/rejudge.ts");
    for (const run of [...runs]) {
      if (!isRealPass(run, false)) continue;
      const r = await rejudgeBundle(resolve(cwd, run.dir), run.report).catch((e: Error) => ({ ok: false, problems: [`cannot re-judge: ${e.message}`] }));
      if (!r.ok) {
        runs.splice(runs.indexOf(run), 1);
        rejected.push({ dir: run.dir, problems: r.problems });
      }
    }
  }
  const result = checkRecord({
    record,
    recordPath: file,
    runsDir,
    runs,
    rejected,
    recordLeaks: scanRecordText(text, secrets),
    secretsScanned: secrets.length,
    providerOfVariable,
  });
  return { ...result, record_reflowed: reflowed, ...(opts.trustedKeys ? { require_signed: { trusted_keyids: [...opts.trustedKeys.keys()].sort() } } : {}) };
}

/** The stderr note for a reflowed record. */
export function reflowNote(file: string): string {
  return `note: ${file} is a single line (its line breaks were lost); reflowed it into the structured form (front matter, \`## \` headings, Status:, Acceptance:, Blocked by:, Current evidence:, \`- \` bullets) before parsing; line numbers below refer to the reflowed text\n`;
}

const MARK = { proven: "✓", unproven: "✗", satisfied: "✓", manual: "?" } as const;

export function renderCheckText(r: SotCheckResult): string {
  const out: string[] = [];
  if (r.record_reflowed) out.push(reflowNote(r.record).trimEnd());
  out.push(`sot check ${r.record} against ${r.runs_dir}: ${r.bundles.verified} verified bundle(s) (${r.bundles.real} real, ${r.bundles.simulated} simulated), ${r.bundles.rejected.length} rejected`);
  if (r.require_signed) out.push(`  only bundles signed by ${r.require_signed.trusted_keyids.length} trusted key(s) count (--require-signed)`);
  for (const rej of r.bundles.rejected) out.push(`  rejected ${rej.dir}: ${rej.problems.slice(0, 3).join("; ")}`);
  for (const it of r.items) {
    out.push("");
    out.push(
      `${it.id} - ${it.title} [status: ${it.status}] — ${it.counts.proven} proven, ${it.counts.unproven} unproven, ` +
        `${it.counts.satisfied} satisfied (still blocked, as required), ${it.counts.manual} manual`,
    );
    for (const l of it.lines) {
      const tail =
        l.verdict === "proven"
          ? `proven by ${l.runs.join(", ")}${l.note ? ` (${l.note})` : ""}`
          : l.verdict === "unproven"
            ? `unproven: ${l.why}`
            : l.verdict === "satisfied"
              ? `satisfied: ${l.note}`
              : "manual: cannot be checked mechanically";
      out.push(`  ${MARK[l.verdict]} line ${l.line}: ${l.text}`);
      out.push(`      ${tail}`);
    }
    for (const o of it.over_claims) out.push(`  OVER-CLAIM: ${o}`);
    if (it.ready_to_promote) out.push("  READY TO PROMOTE: every checkable acceptance line is proven");
  }
  out.push("");
  if (r.secrets_scanned === 0) out.push("record leak scan: no endpoint values in this environment to scan for");
  for (const l of r.record_leaks) out.push(`LEAK: line ${l.line} of ${r.record} contains an endpoint value (${l.form}); remove it from the record`);
  out.push(
    r.ok
      ? "ok: no over-claim, no endpoint value in the record"
      : `NOT OK: ${r.over_claims.length} over-claim(s), ${r.record_leaks.length} endpoint-value finding(s) in the record`,
  );
  return out.join("\n") + "\n";
}

/** The evidence section for one run; refuses bundles that fail verification. */
export async function sotEvidence(
  runDir: string,
  opts: { env: NodeJS.ProcessEnv; verify?: VerifyFn; title?: string; cwd?: string },
): Promise<{ ok: true; text: string } | { ok: false; problems: string[] }> {
  const cwd = opts.cwd ?? process.cwd();
  const abs = resolve(cwd, runDir);
  try {
    await stat(resolve(abs, "report.json"));
  } catch {
    throw new UsageError(`${runDir}: no report.json; expected a run directory written by cto-harness`);
  }
  const secrets = secretValuesInEnv(opts.env, cwd);
  const verify = opts.verify ?? (await defaultVerify());
  const v = await verify(abs, { secrets });
  if (!v.ok || !v.report) return { ok: false, problems: v.problems };
  let text = renderEvidenceSection({ report: v.report, runDir, files: await listFiles(abs), title: opts.title });
  text = stripHomePaths(text, homedir(), runDir);
  // Belt and braces: the section is built from verified, leak-scanned fields, but never print a secret.
  if (scanRecordText(text, secrets).length > 0) return { ok: false, problems: ["the evidence text would contain an endpoint value; refusing to print it"] };
  return { ok: true, text };
}

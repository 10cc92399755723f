// Signing a run bundle (after its manifest is written) and a loop (after its summary is).
import { createHash, sign } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ATTESTATION_FILE, Manifest, compareManifests, computeManifest } from "../evidence/manifest.ts";
import { Report } from "../evidence/report.ts";
import { writeJsonAtomic } from "../evidence/files.ts";
import { HARNESS_VERSION } from "../version.ts";
import { IN_TOTO_PAYLOAD_TYPE, makeEnvelope, preAuthEncoding, type DsseEnvelope } from "./dsse.ts";
import { loadSigningKey, type SigningKey } from "./keys.ts";
import { reportSigningRefusal } from "./policy.ts";
import { loopStatement, runPredicate, runStatement, type LoopPredicate, type Statement, type Subject } from "./statement.ts";

/** The bundle or loop cannot be signed as it is; the message says why. */
export class AttestSignError extends Error {}

export interface Signed {
  /** The envelope's path. */
  path: string;
  keyid: string;
  statement: Statement;
}

const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

async function readOrRefuse(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new AttestSignError(`cannot sign: ${what} ${path} is unreadable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** The DSSE envelope over a statement, signed with Ed25519 over the PAE (never the bare payload). */
export function envelopeFor(statement: Statement, key: SigningKey): DsseEnvelope {
  const payload = Buffer.from(JSON.stringify(statement), "utf8");
  const sig = sign(null, preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload), key.privateKey);
  return makeEnvelope(IN_TOTO_PAYLOAD_TYPE, payload, [{ keyid: key.keyid, sig }]);
}

async function keyFrom(key: SigningKey | string): Promise<SigningKey> {
  return typeof key === "string" ? loadSigningKey(key) : key;
}

/**
 * Signs `runDir/manifest.json` (writes `runDir/attestation.dsse.json`). Refuses a bundle whose
 * files no longer match its manifest: a signature vouches for what the harness wrote, so it is
 * never put on a bundle that has changed since.
 */
export async function signBundle(runDir: string, key: SigningKey | string): Promise<Signed> {
  const signer = await keyFrom(key);
  const manifestBytes = await readOrRefuse(join(runDir, "manifest.json"), "manifest");
  const reportBytes = await readOrRefuse(join(runDir, "report.json"), "report");
  let manifest: Manifest;
  let report: Report;
  try {
    manifest = Manifest.parse(JSON.parse(manifestBytes.toString("utf8")));
    report = Report.parse(JSON.parse(reportBytes.toString("utf8")));
  } catch (e) {
    throw new AttestSignError(`cannot sign ${runDir}: its manifest or report is invalid (${(e as Error).message.slice(0, 300)})`);
  }
  const drift = compareManifests(manifest, await computeManifest(runDir));
  if (drift.length > 0) throw new AttestSignError(`refusing to sign ${runDir}: it no longer matches its manifest (${drift.slice(0, 3).join("; ")})`);
  const statement = runStatement(sha256(manifestBytes), runPredicate(report, sha256(reportBytes)));
  const path = join(runDir, ATTESTATION_FILE);
  await writeJsonAtomic(path, envelopeFor(statement, signer));
  return { path, keyid: signer.keyid, statement };
}

async function signIfUnsigned(runDir: string, key: SigningKey): Promise<void> {
  if (existsSync(join(runDir, ATTESTATION_FILE))) return;
  const report = await readFile(join(runDir, "report.json"), "utf8").then((t) => JSON.parse(t) as Record<string, unknown>).catch(() => null);
  if (!report || reportSigningRefusal(report)) return;
  await signBundle(runDir, key).catch(() => {}); // a changed bundle is not signed; verify reports it
}

/** A run directory name from a summary: one plain path segment, never a way out of the loop dir. */
function safeRunId(runId: string): boolean {
  return runId.length > 0 && !runId.includes("/") && !runId.includes("\0") && runId !== "." && runId !== "..";
}

interface SummaryLike {
  config_hash?: unknown;
  interrupted?: unknown;
  exit_code?: unknown;
  counts?: Record<string, number>;
  attempts?: { run_id: string | null; fixture: string; engine: string; attempt: number; status: string }[];
}

/**
 * Signs a loop: one statement whose subjects are `loop.json`, `summary.json` and every run's
 * `manifest.json` (writes `loopDir/attestation.dsse.json`, replacing an earlier one on resume).
 * A run kept from an earlier, unsigned invocation (`--resume`) is signed first when the policy
 * allows it (policy.ts) and it still matches its manifest; otherwise it stays unsigned and
 * `verify LOOP_DIR --key` says so.
 */
export async function signLoop(loopDir: string, key: SigningKey | string): Promise<Signed> {
  const signer = await keyFrom(key);
  const subjects: Subject[] = [];
  for (const name of ["loop.json", "summary.json"]) subjects.push({ name, digest: { sha256: sha256(await readOrRefuse(join(loopDir, name), name)) } });
  let summary: SummaryLike;
  try {
    summary = JSON.parse(await readFile(join(loopDir, "summary.json"), "utf8")) as SummaryLike;
  } catch (e) {
    throw new AttestSignError(`cannot sign ${loopDir}: summary.json is not valid JSON (${(e as Error).message})`);
  }
  const runs: LoopPredicate["runs"] = [];
  for (const a of summary.attempts ?? []) {
    if (a.run_id === null) continue;
    if (!safeRunId(a.run_id)) throw new AttestSignError(`cannot sign ${loopDir}: summary.json names a run directory '${a.run_id}' that is not a plain name`);
    await signIfUnsigned(join(loopDir, a.run_id), signer);
    const manifest = await readOrRefuse(join(loopDir, a.run_id, "manifest.json"), "run manifest");
    subjects.push({ name: `${a.run_id}/manifest.json`, digest: { sha256: sha256(manifest) } });
    runs.push({ run_id: a.run_id, fixture: a.fixture, engine: a.engine, attempt: a.attempt, status: a.status });
  }
  const predicate: LoopPredicate = {
    loop_id: loopDir.replace(/\/+$/, "").split("/").pop() ?? loopDir,
    harness_version: HARNESS_VERSION,
    config_hash: String(summary.config_hash ?? ""),
    interrupted: summary.interrupted === true,
    exit_code: typeof summary.exit_code === "number" ? summary.exit_code : -1,
    counts: summary.counts ?? {},
    runs,
  };
  const statement = loopStatement(subjects, predicate);
  const path = join(loopDir, ATTESTATION_FILE);
  await writeJsonAtomic(path, envelopeFor(statement, signer));
  return { path, keyid: signer.keyid, statement };
}

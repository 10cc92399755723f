// Checking an attestation: the envelope (strict shape, known key, Ed25519 signature over the
// PAE), then the statement it carries against the files on disk. A verdict here is computed
// only from the trusted keys and bytes on disk; nothing in the envelope is believed before the
// signature over it is checked against a key the verifier chose.
import { createHash, verify as verifySignature } from "node:crypto";
import { lstat, readFile } from "node:fs/promises";
import { join } from "node:path";
import { ATTESTATION_FILE } from "../evidence/manifest.ts";
import { Report } from "../evidence/report.ts";
import { DsseEnvelope, IN_TOTO_PAYLOAD_TYPE, decodeBase64, preAuthEncoding } from "./dsse.ts";
import type { TrustedKeys } from "./keys.ts";
import { LOOP_PREDICATE_TYPE, LoopPredicate, RUN_PREDICATE_TYPE, RunPredicate, Statement, predicateDifferences, runPredicate } from "./statement.ts";

/** Why an attestation was rejected (stable strings, like the report's failure reasons). */
export type AttestationFailure =
  | "attestation missing"
  | "attestation malformed"
  | "unknown key"
  | "bad signature"
  | "wrong predicate type"
  | "subject mismatch"
  | "predicate mismatch";

export interface AttestationCheck {
  ok: boolean;
  failure: AttestationFailure | null;
  /** What was wrong and what it means, for people. */
  reason: string | null;
  /** The key that verified the signature; when rejected, the keyid(s) the envelope claims. */
  keyid: string | null;
  /** False when no trusted keys were given: the shape and subject were checked, not who signed. */
  signature_checked: boolean;
  statement: Statement | null;
}

const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

function reject(failure: AttestationFailure, reason: string, keyid: string | null = null, statement: Statement | null = null, checked = false): AttestationCheck {
  return { ok: false, failure, reason, keyid, signature_checked: checked, statement };
}

/**
 * Pure: parses an envelope's text and checks its signature against `trusted` (null: do not
 * check who signed). The payload is parsed only after its signature verified.
 */
export function openEnvelope(text: string, trusted: TrustedKeys | null): AttestationCheck {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return reject("attestation malformed", `${ATTESTATION_FILE} is not JSON`);
  }
  const env = DsseEnvelope.safeParse(json);
  if (!env.success) return reject("attestation malformed", `${ATTESTATION_FILE} is not a DSSE envelope: ${env.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`).join("; ")}`);
  const { payload, payloadType, signatures } = env.data;
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE) return reject("attestation malformed", `payloadType is '${payloadType.slice(0, 100)}', expected '${IN_TOTO_PAYLOAD_TYPE}'`);
  const body = decodeBase64(payload);
  const claimed = signatures.map((s) => s.keyid.slice(0, 80)).join(", ");
  let keyid: string | null = null;
  if (trusted) {
    const known = signatures.filter((s) => trusted.has(s.keyid));
    if (known.length === 0) {
      return reject("unknown key", `signed by keyid ${claimed}, which is not among the ${trusted.size} trusted key(s); add the signer's .pub to the trusted keys only if you trust that machine`, claimed, null, true);
    }
    const pae = preAuthEncoding(payloadType, body);
    const good = known.find((s) => verifySignature(null, pae, trusted.get(s.keyid)!.publicKey, decodeBase64(s.sig)));
    if (!good) return reject("bad signature", `the signature by trusted keyid ${known[0]!.keyid} does not verify: the envelope or its payload was altered after signing, or it was signed with another key`, known[0]!.keyid, null, true);
    keyid = good.keyid;
  }
  let statement: Statement;
  try {
    statement = Statement.parse(JSON.parse(body.toString("utf8")));
  } catch (e) {
    return reject("attestation malformed", `the payload is not an in-toto Statement v1: ${(e as Error).message.slice(0, 300)}`, keyid ?? claimed, null, trusted !== null);
  }
  return { ok: true, failure: null, reason: null, keyid: keyid ?? claimed, signature_checked: trusted !== null, statement };
}

async function readCapped(path: string, cap: number): Promise<Buffer | "missing" | "too big"> {
  // lstat: a symlink is not followed out of the bundle (manifest.ts records links by target).
  const info = await lstat(path).catch(() => null);
  if (!info || !info.isFile()) return "missing";
  if (info.size > cap) return "too big";
  return readFile(path);
}

/** A run envelope is one statement and one or a few signatures: a few KiB. */
const RUN_ENVELOPE_CAP = 64 * 1024;
const LOOP_ENVELOPE_CAP = 16 * 1024 * 1024;

async function openFile(dir: string, cap: number, trusted: TrustedKeys | null): Promise<AttestationCheck> {
  const bytes = await readCapped(join(dir, ATTESTATION_FILE), cap);
  if (bytes === "missing") return reject("attestation missing", `${ATTESTATION_FILE} is missing (or not a regular file): the bundle is not signed (sign it with --key when running)`);
  if (bytes === "too big") return reject("attestation malformed", `${ATTESTATION_FILE} is over ${cap} bytes; a genuine envelope is far smaller`);
  return openEnvelope(bytes.toString("utf8"), trusted);
}

/**
 * A run bundle's attestation: a valid envelope signed by a trusted key (when `trusted` is
 * given), whose statement names `manifest.json` with the sha256 it has now, and whose
 * predicate agrees with `report.json`. Says nothing about the other files: the manifest check
 * (evidence/verify.ts) does, and `verifySignedBundle` runs both.
 */
export async function verifyBundleAttestation(runDir: string, trusted: TrustedKeys | null): Promise<AttestationCheck> {
  const opened = await openFile(runDir, RUN_ENVELOPE_CAP, trusted);
  if (!opened.ok || !opened.statement) return opened;
  const { statement, keyid, signature_checked: checked } = opened;
  if (statement.predicateType !== RUN_PREDICATE_TYPE) return reject("wrong predicate type", `predicateType is '${statement.predicateType.slice(0, 100)}', expected '${RUN_PREDICATE_TYPE}' (a loop's attestation is checked on its loop directory)`, keyid, statement, checked);
  const subject = statement.subject;
  if (subject.length !== 1 || subject[0]!.name !== "manifest.json") return reject("subject mismatch", "the statement's subject is not exactly manifest.json", keyid, statement, checked);
  const manifest = await readCapped(join(runDir, "manifest.json"), 256 * 1024 * 1024);
  if (typeof manifest === "string") return reject("subject mismatch", `manifest.json is ${manifest === "missing" ? "missing" : "too big"}`, keyid, statement, checked);
  const now = sha256(manifest);
  if (now !== subject[0]!.digest.sha256) return reject("subject mismatch", `manifest.json changed after signing (signed sha256 ${subject[0]!.digest.sha256}, now ${now})`, keyid, statement, checked);
  const predicate = RunPredicate.safeParse(statement.predicate);
  if (!predicate.success) return reject("attestation malformed", `the predicate is not ${RUN_PREDICATE_TYPE}: ${predicate.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`, keyid, statement, checked);
  const reportBytes = await readCapped(join(runDir, "report.json"), 64 * 1024 * 1024);
  const report = typeof reportBytes === "string" ? null : Report.safeParse(parseOrNull(reportBytes));
  if (report?.success) {
    const diff = predicateDifferences(predicate.data, runPredicate(report.data, sha256(reportBytes as Buffer)));
    if (diff.length > 0) return reject("predicate mismatch", `the signed predicate disagrees with report.json on ${diff.join(", ")}`, keyid, statement, checked);
  }
  // An unreadable report is the manifest check's to report; the subject already binds it.
  return { ...opened, ok: true };
}

function parseOrNull(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    return null;
  }
}

/** Subject names a loop statement may carry: its two files and `<run>/manifest.json`. */
function loopSubjectPath(name: string): string | null {
  if (name === "loop.json" || name === "summary.json") return name;
  const m = /^([^/\0]+)\/manifest\.json$/.exec(name);
  return m && m[1] !== "." && m[1] !== ".." ? name : null;
}

/** A loop's attestation: signed by a trusted key, and every subject's sha256 as on disk now. */
export async function verifyLoopAttestation(loopDir: string, trusted: TrustedKeys | null): Promise<AttestationCheck> {
  const opened = await openFile(loopDir, LOOP_ENVELOPE_CAP, trusted);
  if (!opened.ok || !opened.statement) return opened;
  const { statement, keyid, signature_checked: checked } = opened;
  if (statement.predicateType !== LOOP_PREDICATE_TYPE) return reject("wrong predicate type", `predicateType is '${statement.predicateType.slice(0, 100)}', expected '${LOOP_PREDICATE_TYPE}'`, keyid, statement, checked);
  if (!LoopPredicate.safeParse(statement.predicate).success) return reject("attestation malformed", `the predicate is not ${LOOP_PREDICATE_TYPE}`, keyid, statement, checked);
  for (const s of statement.subject) {
    const rel = loopSubjectPath(s.name);
    if (!rel) return reject("subject mismatch", `subject '${s.name.slice(0, 200)}' is not a loop file or a run manifest`, keyid, statement, checked);
    const bytes = await readCapped(join(loopDir, rel), 256 * 1024 * 1024);
    if (typeof bytes === "string") return reject("subject mismatch", `${rel} is ${bytes}`, keyid, statement, checked);
    if (sha256(bytes) !== s.digest.sha256) return reject("subject mismatch", `${rel} changed after signing`, keyid, statement, checked);
  }
  return opened;
}

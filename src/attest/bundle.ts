// A signed bundle, checked in the order a sceptic wants: who signed it (offline, against the
// keys the verifier trusts), then its manifest, then every file (evidence/verify.ts).
import { verifyBundle, type VerifyResult } from "../evidence/verify.ts";
import type { Report } from "../evidence/report.ts";
import type { TrustedKeys } from "./keys.ts";
import { verifyBundleAttestation, type AttestationCheck } from "./verify.ts";

export interface SignedBundleResult {
  ok: boolean;
  /** The attestation's problem first (when any), then the bundle's. */
  problems: string[];
  report: Report | null;
  attestation: AttestationCheck;
  bundle: VerifyResult;
}

export function attestationProblem(a: AttestationCheck): string | null {
  return a.ok ? null : `attestation rejected (${a.failure}): ${a.reason}`;
}

export async function verifySignedBundle(runDir: string, trusted: TrustedKeys, opts: { secrets?: string[] } = {}): Promise<SignedBundleResult> {
  const attestation = await verifyBundleAttestation(runDir, trusted);
  // The files are checked even when the signature is not accepted: the problem list then
  // shows what else is wrong (a bundle altered in transit usually fails both).
  const bundle = await verifyBundle(runDir, opts);
  const first = attestationProblem(attestation);
  const problems = [...(first ? [first] : []), ...bundle.problems];
  return { ok: attestation.ok && bundle.ok, problems, report: bundle.report, attestation, bundle };
}

/** A drop-in for `verifyBundle` where only bundles signed by `trusted` count (sot check, queued loops). */
export function signedVerifier(trusted: TrustedKeys) {
  return async (runDir: string, opts?: { secrets?: string[] }): Promise<{ ok: boolean; problems: string[]; report: Report | null }> => {
    const r = await verifySignedBundle(runDir, trusted, opts);
    return { ok: r.ok, problems: r.problems, report: r.report };
  };
}

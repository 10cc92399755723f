// Signed evidence in the queue (docs/evidence.md, src/attest): a worker signs each bundle
// with its key (`worker --key`, through runOnce's signingKey) before submitting it; the
// coordinator accepts a bundle only after its attestation verifies against the workers'
// public keys (`loop --queue --trust DIR`), its files against its manifest, and its signed
// predicate against the job it handed out — and re-judges it first when asked (`--rejudge`).
import { loadTrustDir, type TrustedKeys } from "../attest/index.ts";

export interface BundleTrust {
  trusted: TrustedKeys;
  /** Run the judge again on the recorded patch in a fresh fixture copy before accepting. */
  rejudge: boolean;
}

export async function loadTrust(dir: string, rejudge = false): Promise<BundleTrust> {
  return { trusted: await loadTrustDir(dir), rejudge };
}

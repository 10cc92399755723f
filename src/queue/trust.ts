// The seam to signed evidence (issue #16 item 4, src/attest/): a worker signs each bundle
// with its key (--key) before submitting it; the coordinator accepts a bundle only after
// its attestation verifies against the workers' public keys (--trust DIR).
export interface BundleTrust {
  /** ok only when the bundle's attestation is signed by a trusted key and names its manifest. */
  verify(runDir: string): Promise<{ ok: true; keyid?: string } | { ok: false; reason: string }>;
}

export class TrustUnavailable extends Error {}

const NOT_MERGED = "bundle signing is not part of this build yet (the attestation module src/attest/ is not merged)";

/** Loads a signer for `--key PATH`. */
export async function loadSigner(_keyPath: string): Promise<(runDir: string) => Promise<void>> {
  throw new TrustUnavailable(NOT_MERGED);
}

/** Loads the trusted public keys of `--trust DIR`. */
export async function loadTrust(_dir: string): Promise<BundleTrust> {
  throw new TrustUnavailable(NOT_MERGED);
}

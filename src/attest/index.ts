// Signed evidence (docs/evidence.md): the public API of src/attest.
//
//   keys:    initKeyPair(out) · loadSigningKey(path) · loadPublicKey(path) · loadTrustDir(dir) ·
//            loadTrustedKeys(fileOrDir) · keyidOf(publicKey)           (errors: AttestKeyError)
//   sign:    signBundle(runDir, key) · signLoop(loopDir, key)         (errors: AttestSignError)
//   verify:  verifyBundleAttestation(runDir, trusted|null) → {ok, failure, reason, keyid, statement, signature_checked}
//            verifySignedBundle(runDir, trusted, {secrets}) → attestation, then manifest, then every file
//            verifyLoopAttestation(loopDir, trusted|null) · signedVerifier(trusted) (a VerifyFn)
//   accept:  acceptBundle(runDir, trusted, expectedJob, {secrets, rejudge}) → signature, files, the job, re-judge
//   policy:  signingRefusal(engine, isolation) → why --key cannot be used, or null
//   format:  preAuthEncoding(type, body) · ATTESTATION_FILE · predicate type URIs
//
// `key` is a SigningKey from loadSigningKey or the path of a private key file. `trusted` is a
// map keyid → public key; keyid = sha256 hex of the public key's SPKI DER.
export { ATTESTATION_FILE } from "../evidence/manifest.ts";
export { AttestKeyError, initKeyPair, keyidOf, loadPublicKey, loadSigningKey, loadTrustDir, loadTrustedKeys } from "./keys.ts";
export type { SigningKey, TrustedKey, TrustedKeys } from "./keys.ts";
export { AttestSignError, signBundle, signLoop, type Signed } from "./sign.ts";
export { openEnvelope, verifyBundleAttestation, verifyLoopAttestation, type AttestationCheck, type AttestationFailure } from "./verify.ts";
export { attestationProblem, signedVerifier, verifySignedBundle, type SignedBundleResult } from "./bundle.ts";
export { IN_TOTO_PAYLOAD_TYPE, preAuthEncoding } from "./dsse.ts";
export { LOOP_PREDICATE_TYPE, RUN_PREDICATE_TYPE, STATEMENT_TYPE } from "./statement.ts";
export { signingRefusal } from "./policy.ts";
export { acceptBundle, jobMismatches, type Acceptance, type ExpectedJob } from "./accept.ts";

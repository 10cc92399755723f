// Signed evidence (src/attest): a real bundle signed with Ed25519 in a DSSE envelope; every
// alteration in transit and every unknown key is rejected with a clear reason; the format is
// checked by independent tools (Python computes the PAE, OpenSSL checks the signature).
import { spawnSync } from "node:child_process";
import { cpSync, chmodSync } from "node:fs";
import { generateKeyPairSync as genKeys } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runOnce } from "../src/run/lifecycle.ts";
import {
  ATTESTATION_FILE, AttestKeyError, RUN_PREDICATE_TYPE, initKeyPair, loadPublicKey, loadSigningKey, loadTrustDir, preAuthEncoding,
  LOOP_PREDICATE_TYPE, acceptBundle, loadTrustedKeys, openEnvelope, signBundle, signLoop, signingRefusal, verifyBundleAttestation, verifyLoopAttestation,
  verifySignedBundle, type TrustedKeys,
} from "../src/attest/index.ts";
import { envelopeFor } from "../src/attest/sign.ts";
import { STATEMENT_TYPE } from "../src/attest/statement.ts";
import { reportSigningRefusal } from "../src/attest/policy.ts";
import { verifyBundle } from "../src/evidence/verify.ts";
import { baseEnv, tempDir } from "./helpers/run-env.ts";

let original: string;
let keyPath: string;
let trusted: TrustedKeys;

function copyBundle(): string {
  const dir = join(tempDir("signed-copy"), "run");
  cpSync(original, dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}

function flipByte(path: string, at = 0): void {
  const b = readFileSync(path);
  b[Math.min(at, b.length - 1)]! ^= 0x01;
  writeFileSync(path, b);
}

function envelopeOf(dir: string) {
  return JSON.parse(readFileSync(join(dir, ATTESTATION_FILE), "utf8")) as { payload: string; payloadType: string; signatures: { keyid: string; sig: string }[] };
}

beforeAll(async () => {
  const keys = tempDir("keys");
  keyPath = join(keys, "worker-1.key");
  initKeyPair(keyPath);
  const trustDir = tempDir("trust");
  cpSync(`${keyPath}.pub`, join(trustDir, "worker-1.pub"));
  trusted = await loadTrustDir(trustDir);
  const { report, runDir } = await runOnce({
    fixture: "r1-string-slugify", engine: "fake-oracle", provider: "sim", model: "qwen3.6-35b-a3b",
    isolation: "none", budget: 1024, runsDir: tempDir("runs"), env: baseEnv(),
  });
  expect(report.status).toBe("pass");
  await signBundle(runDir, keyPath);
  original = runDir;
});

describe("DSSE pre-authentication encoding", () => {
  it("matches the DSSE spec's example byte for byte", () => {
    expect(preAuthEncoding("http://example.com/HelloWorld", Buffer.from("hello world")).toString()).toBe("DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  });

  it("counts bytes, not characters", () => {
    expect(preAuthEncoding("t", Buffer.from("é", "utf8")).toString("utf8")).toBe("DSSEv1 1 t 2 é");
  });

  it("agrees with independent tools: Python computes the PAE from the envelope, OpenSSL verifies the Ed25519 signature", () => {
    const work = tempDir("openssl");
    const env = join(original, ATTESTATION_FILE);
    const py = spawnSync("python3", ["-c", `
import base64, json, sys
e = json.load(open(sys.argv[1]))
body = base64.b64decode(e["payload"]); t = e["payloadType"].encode()
pae = b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)
open(sys.argv[2] + "/pae.bin", "wb").write(pae)
open(sys.argv[2] + "/sig.bin", "wb").write(base64.b64decode(e["signatures"][0]["sig"]))
st = json.loads(body); print(st["_type"], st["subject"][0]["name"], st["subject"][0]["digest"]["sha256"])
`, env, work], { encoding: "utf8" });
    expect(py.status, py.stderr).toBe(0);
    const manifestSha = spawnSync("sha256sum", [join(original, "manifest.json")], { encoding: "utf8" }).stdout.split(" ")[0];
    expect(py.stdout.trim()).toBe(`https://in-toto.io/Statement/v1 manifest.json ${manifestSha}`);
    const ok = spawnSync("openssl", ["pkeyutl", "-verify", "-pubin", "-inkey", `${keyPath}.pub`, "-rawin", "-in", join(work, "pae.bin"), "-sigfile", join(work, "sig.bin")], { encoding: "utf8" });
    expect(ok.status, ok.stderr + ok.stdout).toBe(0);
    flipByte(join(work, "pae.bin"), 40);
    const bad = spawnSync("openssl", ["pkeyutl", "-verify", "-pubin", "-inkey", `${keyPath}.pub`, "-rawin", "-in", join(work, "pae.bin"), "-sigfile", join(work, "sig.bin")], { encoding: "utf8" });
    expect(bad.status).not.toBe(0);
  });

  it("keyid is the sha256 of the public key's SPKI DER, recomputable with openssl", () => {
    const der = spawnSync("openssl", ["pkey", "-pubin", "-in", `${keyPath}.pub`, "-outform", "DER"]);
    const sha = spawnSync("sha256sum", { input: der.stdout, encoding: "utf8" }).stdout.split(" ")[0];
    expect(envelopeOf(original).signatures[0]!.keyid).toBe(sha);
  });
});

describe("sign → verify", () => {
  it("a signed bundle verifies: signature, manifest, every file; the predicate carries the run's identity", async () => {
    const r = await verifySignedBundle(original, trusted);
    expect(r.ok, r.problems.join("; ")).toBe(true);
    expect(r.attestation).toMatchObject({ ok: true, signature_checked: true, keyid: [...trusted.keys()][0] });
    expect(r.attestation.statement).toMatchObject({
      predicateType: RUN_PREDICATE_TYPE,
      predicate: { status: "pass", engine: "fake-oracle", provider: "sim", model: "qwen3.6-35b-a3b", endpoint_kind: "simulated", judge: { verdict: "pass" } },
    });
    // The attestation is outside the manifest (it signs it) and plain verify still passes.
    expect((await verifyBundle(original)).ok).toBe(true);
  });

  it("the private key never enters the bundle", async () => {
    const pem = readFileSync(keyPath, "utf8");
    const body = pem.split("\n").filter((l) => l && !l.startsWith("-----")).join("");
    const raw = (await loadSigningKey(keyPath)).privateKey.export({ format: "der", type: "pkcs8" }).subarray(-32);
    const needles = [body, body.slice(8, 40), raw.toString("hex"), raw.toString("base64").slice(0, 40)];
    const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : e.isFile() ? [join(d, e.name)] : []));
    for (const f of walk(original)) {
      const text = readFileSync(f).toString("latin1");
      for (const n of needles) expect(text.includes(n), `${f} contains the private key`).toBe(false);
    }
  });
});

describe("altered in transit → rejected with a clear reason", () => {
  it("one byte changed in a bundle file: the signature holds but the manifest check names the file", async () => {
    const dir = copyBundle();
    flipByte(join(dir, "workspace.patch"), 10);
    const r = await verifySignedBundle(dir, trusted);
    expect(r.ok).toBe(false);
    expect(r.attestation.ok).toBe(true);
    expect(r.problems).toContain("modified file: workspace.patch (sha256 differs)");
  });

  it("one byte changed in manifest.json: subject mismatch", async () => {
    const dir = copyBundle();
    const m = join(dir, "manifest.json");
    writeFileSync(m, readFileSync(m, "utf8").replace(/"bytes": (\d)/, (_, d) => `"bytes": ${(Number(d) + 1) % 10}`));
    const r = await verifySignedBundle(dir, trusted);
    expect(r.ok).toBe(false);
    expect(r.attestation.failure).toBe("subject mismatch");
    expect(r.problems[0]).toMatch(/^attestation rejected \(subject mismatch\): manifest.json changed after signing/);
  });

  it("one byte of the signature changed: bad signature", async () => {
    const dir = copyBundle();
    const e = envelopeOf(dir);
    const sig = Buffer.from(e.signatures[0]!.sig, "base64");
    sig[5]! ^= 0x01;
    e.signatures[0]!.sig = sig.toString("base64");
    writeFileSync(join(dir, ATTESTATION_FILE), JSON.stringify(e));
    const a = await verifyBundleAttestation(dir, trusted);
    expect(a).toMatchObject({ ok: false, failure: "bad signature" });
    expect(a.reason).toContain("altered after signing");
  });

  it("the payload changed (a fail turned into a pass, re-encoded): bad signature", async () => {
    const dir = copyBundle();
    const e = envelopeOf(dir);
    const st = JSON.parse(Buffer.from(e.payload, "base64").toString("utf8"));
    st.predicate.tests_passed = false;
    e.payload = Buffer.from(JSON.stringify(st)).toString("base64");
    writeFileSync(join(dir, ATTESTATION_FILE), JSON.stringify(e));
    expect(await verifyBundleAttestation(dir, trusted)).toMatchObject({ ok: false, failure: "bad signature" });
  });

  it("the payload type changed: rejected (PAE binds the type)", async () => {
    const dir = copyBundle();
    const e = envelopeOf(dir);
    e.payloadType = "application/json";
    writeFileSync(join(dir, ATTESTATION_FILE), JSON.stringify(e));
    expect(await verifyBundleAttestation(dir, trusted)).toMatchObject({ ok: false, failure: "attestation malformed" });
  });

  it("an extra member in the envelope (a place to smuggle data past the manifest): malformed", async () => {
    const dir = copyBundle();
    writeFileSync(join(dir, ATTESTATION_FILE), JSON.stringify({ ...envelopeOf(dir), extra: "x" }));
    const a = await verifyBundleAttestation(dir, trusted);
    expect(a.failure).toBe("attestation malformed");
    expect(a.reason).toContain("not a DSSE envelope");
  });

  it("a report re-signed by another key after tampering: unknown key", async () => {
    const dir = copyBundle();
    const other = join(tempDir("other-key"), "mallory.key");
    initKeyPair(other);
    await signBundle(dir, other);
    const a = await verifyBundleAttestation(dir, trusted);
    expect(a).toMatchObject({ ok: false, failure: "unknown key" });
    expect(a.reason).toMatch(/not among the 1 trusted key/);
  });

  it("no attestation: rejected as unsigned", async () => {
    const dir = copyBundle();
    spawnSync("rm", [join(dir, ATTESTATION_FILE)]);
    const r = await verifySignedBundle(dir, trusted);
    expect(r.ok).toBe(false);
    expect(r.attestation.failure).toBe("attestation missing");
  });

  it("signing refuses a bundle that no longer matches its manifest", async () => {
    const dir = copyBundle();
    flipByte(join(dir, "task.json"), 3);
    await expect(signBundle(dir, keyPath)).rejects.toThrow(/no longer matches its manifest.*task.json/);
  });
});

describe("key files", () => {
  it("keys init writes 0600 PKCS8 + a .pub, and refuses to overwrite", () => {
    const out = join(tempDir("init"), "k");
    const made = initKeyPair(out);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(out, "utf8")).toContain("BEGIN PRIVATE KEY");
    expect(readFileSync(`${out}.pub`, "utf8")).toContain("BEGIN PUBLIC KEY");
    expect(made.keyid).toMatch(/^[0-9a-f]{64}$/);
    expect(() => initKeyPair(out)).toThrow(/already exists; refusing to overwrite/);
    // An existing .pub alone also stops it, and no private key is left without its public half.
    const lone = join(tempDir("init-pub"), "k");
    writeFileSync(`${lone}.pub`, "someone else's key");
    expect(() => initKeyPair(lone)).toThrow(/k\.pub already exists/);
    expect(existsSync(lone)).toBe(false);
    expect(readFileSync(`${lone}.pub`, "utf8")).toBe("someone else's key");
  });

  it("a signing key readable by others is refused", async () => {
    const out = join(tempDir("mode"), "k");
    initKeyPair(out);
    chmodSync(out, 0o644);
    await expect(loadSigningKey(out)).rejects.toThrow(/readable or writable by group or others.*chmod 600/);
  });

  it("wrong key types are refused with what to do", async () => {
    const dir = tempDir("wrong");
    const { privateKey, publicKey } = genKeys("ec", { namedCurve: "P-256" });
    writeFileSync(join(dir, "ec.pem"), publicKey.export({ type: "spki", format: "pem" }));
    writeFileSync(join(dir, "ec.key"), privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    await expect(loadPublicKey(join(dir, "ec.pem"))).rejects.toThrow(/is a ec key; cto-harness signs and verifies with Ed25519 only/);
    await expect(loadSigningKey(join(dir, "ec.key"))).rejects.toThrow(AttestKeyError);
    await expect(loadSigningKey(`${keyPath}.pub`)).rejects.toThrow(/not a private key/);
    await expect(loadPublicKey(keyPath)).rejects.toThrow(/is a private key; give its public half/);
    writeFileSync(join(dir, "junk.pub"), "hello");
    await expect(loadPublicKey(join(dir, "junk.pub"))).rejects.toThrow(/not a readable PEM public key/);
    await expect(loadTrustDir(tempDir("empty-trust"))).rejects.toThrow(/holds no \*\.pub or \*\.pem/);
    expect(existsSync(keyPath)).toBe(true);
  });
});

describe("statements a trusted key signed but that do not fit the bundle", () => {
  it("a predicate that disagrees with report.json: predicate mismatch, naming the field", async () => {
    const dir = copyBundle();
    const key = await loadSigningKey(keyPath);
    const st = JSON.parse(Buffer.from(envelopeOf(dir).payload, "base64").toString("utf8"));
    st.predicate.model = "claude-sonnet-4-6";
    writeFileSync(join(dir, ATTESTATION_FILE), JSON.stringify(envelopeFor(st, key)));
    const a = await verifyBundleAttestation(dir, trusted);
    expect(a).toMatchObject({ ok: false, failure: "predicate mismatch" });
    expect(a.reason).toContain("on model");
  });

  it("a loop's statement put in a run bundle: wrong predicate type", async () => {
    const dir = copyBundle();
    const key = await loadSigningKey(keyPath);
    const st = { _type: STATEMENT_TYPE as typeof STATEMENT_TYPE, subject: [{ name: "manifest.json", digest: { sha256: "0".repeat(64) } }], predicateType: LOOP_PREDICATE_TYPE, predicate: {} };
    writeFileSync(join(dir, ATTESTATION_FILE), JSON.stringify(envelopeFor(st, key)));
    expect(await verifyBundleAttestation(dir, trusted)).toMatchObject({ ok: false, failure: "wrong predicate type" });
  });

  it("a loop statement naming a path outside the loop directory is refused, not read", async () => {
    const loop = tempDir("loop-escape");
    writeFileSync(join(loop, "loop.json"), "{}");
    writeFileSync(join(loop, "summary.json"), JSON.stringify({ attempts: [], counts: {}, exit_code: 0, config_hash: "x", interrupted: false }));
    await signLoop(loop, keyPath);
    expect(await verifyLoopAttestation(loop, trusted)).toMatchObject({ ok: true });
    const key = await loadSigningKey(keyPath);
    const st = JSON.parse(Buffer.from(envelopeOf(loop).payload, "base64").toString("utf8"));
    st.subject.push({ name: "../outside/manifest.json", digest: { sha256: "0".repeat(64) } });
    writeFileSync(join(loop, ATTESTATION_FILE), JSON.stringify(envelopeFor(st, key)));
    const a = await verifyLoopAttestation(loop, trusted);
    expect(a).toMatchObject({ ok: false, failure: "subject mismatch" });
    expect(a.reason).toContain("is not a loop file or a run manifest");
    writeFileSync(join(loop, "summary.json"), "{}");
    await expect(signLoop(loop, keyPath)).resolves.toBeTruthy();
    writeFileSync(join(loop, "summary.json"), JSON.stringify({ attempts: [{ run_id: "../x", fixture: "f", engine: "e", attempt: 1, status: "pass" }] }));
    await expect(signLoop(loop, keyPath)).rejects.toThrow(/not a plain name/);
  });
});

describe("openEnvelope (pure)", () => {
  it("accepts the one trusted signature among several, and URL-safe base64", async () => {
    const key = await loadSigningKey(keyPath);
    const env = envelopeFor({ _type: STATEMENT_TYPE, subject: [{ name: "x", digest: { sha256: "a".repeat(64) } }], predicateType: "t", predicate: {} }, key);
    env.signatures.unshift({ keyid: "f".repeat(64), sig: Buffer.alloc(64).toString("base64") });
    env.payload = env.payload.replace(/\+/g, "-").replace(/\//g, "_");
    const r = openEnvelope(JSON.stringify(env), trusted);
    expect(r).toMatchObject({ ok: true, keyid: key.keyid, signature_checked: true });
  });

  it("rejects garbage clearly; without trusted keys it never claims a checked signature", () => {
    expect(openEnvelope("not json", trusted)).toMatchObject({ ok: false, failure: "attestation malformed", reason: "attestation.dsse.json is not JSON" });
    expect(openEnvelope(JSON.stringify({ payload: "", payloadType: "x", signatures: [] }), trusted).failure).toBe("attestation malformed");
    const env = JSON.parse(readFileSync(join(original, ATTESTATION_FILE), "utf8"));
    expect(openEnvelope(JSON.stringify(env), null)).toMatchObject({ ok: true, signature_checked: false });
  });

  it("a trust path may be one .pub file; signing policy refuses unsandboxed agents only", async () => {
    expect([...(await loadTrustedKeys(`${keyPath}.pub`)).keys()]).toEqual([...trusted.keys()]);
    expect(signingRefusal("pi", "none")).toMatch(/could read the signing key/);
    expect(signingRefusal("pi", "bwrap")).toBeNull();
    expect(signingRefusal("fake-oracle", "none")).toMatch(/needs --isolation bwrap/);
    expect(reportSigningRefusal({ backend: "pi", isolation: "none", isolation_requested: "bwrap", case_process_started: false, tests: null })).toBeNull(); // blocked before anything ran
    expect(reportSigningRefusal({ backend: "fake-oracle", isolation: "none", isolation_requested: "bwrap", case_process_started: false, tests: { passed: true } })).toMatch(/bwrap/);
    expect(reportSigningRefusal({ backend: "pi", isolation: "bwrap", isolation_requested: "none" })).toMatch(/bwrap/);
  });
});

describe("signLoop on a resumed loop", () => {
  it("signs a kept unsigned run that ran sandboxed, never one whose tests ran unsandboxed", async () => {
    const loop = tempDir("loop-resume");
    const { runDir: sandboxed } = await runOnce({
      fixture: "r1-string-slugify", engine: "fake-oracle", provider: "sim", model: "qwen3.6-35b-a3b",
      isolation: "bwrap", budget: 1024, runsDir: loop, env: baseEnv(),
    });
    const unsandboxedId = original.split("/").pop()!;
    cpSync(original, join(loop, unsandboxedId), { recursive: true, verbatimSymlinks: true });
    spawnSync("rm", [join(loop, unsandboxedId, ATTESTATION_FILE)]);
    const sandboxedId = sandboxed.split("/").pop()!;
    writeFileSync(join(loop, "loop.json"), "{}");
    const attempts = [sandboxedId, unsandboxedId].map((run_id, i) => ({ run_id, fixture: "r1-string-slugify", engine: "fake-oracle", attempt: i + 1, status: "pass" }));
    writeFileSync(join(loop, "summary.json"), JSON.stringify({ attempts, counts: { pass: 2 }, exit_code: 0, config_hash: "h", interrupted: false }));
    const signed = await signLoop(loop, keyPath);
    expect(signed.statement.subject.map((s) => s.name)).toEqual(["loop.json", "summary.json", `${sandboxedId}/manifest.json`, `${unsandboxedId}/manifest.json`]);
    expect(existsSync(join(sandboxed, ATTESTATION_FILE))).toBe(true);
    expect((await verifySignedBundle(sandboxed, trusted)).ok).toBe(true);
    expect(existsSync(join(loop, unsandboxedId, ATTESTATION_FILE))).toBe(false);
    expect(await verifyLoopAttestation(loop, trusted)).toMatchObject({ ok: true, signature_checked: true });
  });
});

describe("acceptBundle (a coordinator accepting a worker's bundle)", () => {
  it("accepts the job it asked for, refuses a signed bundle of another job or signer, and re-judges when asked", async () => {
    const job = { fixture_id: "r1-string-slugify", engine: "fake-oracle", provider: "sim", model: "qwen3.6-35b-a3b" };
    const ok = await acceptBundle(original, trusted, job);
    expect(ok, ok.problems.join("; ")).toMatchObject({ ok: true, rejudged: false });
    const other = await acceptBundle(original, trusted, { ...job, model: "other-model", fixture_digest: "0".repeat(64) });
    expect(other.ok).toBe(false);
    expect(other.problems).toEqual([
      expect.stringMatching(/^signed fixture digest is [0-9a-f]+, the job asked for 0{64}$/),
      "signed model is qwen3.6-35b-a3b, the job asked for other-model",
    ]);
    expect((await acceptBundle(original, trusted, { ...job, keyids: ["f".repeat(64)] })).problems[0]).toMatch(/not by a key allowed for this job/);
    const rejudged = await acceptBundle(original, trusted, job, { rejudge: async () => ({ ok: false, problems: ["a pass claim whose patch does not make the tests pass"] }) });
    expect(rejudged).toMatchObject({ ok: false, rejudged: true, problems: ["a pass claim whose patch does not make the tests pass"] });
    const real = await acceptBundle(original, trusted, job, { rejudge: true });
    expect(real, real.problems.join("; ")).toMatchObject({ ok: true, rejudged: true });
  });
});

// Signed evidence through the CLI a user meets: keys init, run/loop --key, verify --key (bundle
// and loop), sot check --require-signed --keys; exit codes per DESIGN §3; the private key never
// reaches the agent, the bundle or the output.
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { agentScript, tempDir } from "./helpers/run-env.ts";

const BIN = fileURLToPath(new URL("../bin/cto-harness", import.meta.url));

function cli(args: string[], env: Record<string, string> = {}, cwd?: string) {
  const r = spawnSync(BIN, args, { encoding: "utf8", env: { PATH: "/usr/local/bin:/usr/bin:/bin", ...env }, timeout: 180_000, cwd });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : e.isFile() ? [join(d, e.name)] : []));

let keys: string;
let key: string;
let runsDir: string;
let signedRun: string;

beforeAll(() => {
  keys = tempDir("cli-keys");
  key = join(keys, "worker-a");
  const init = cli(["keys", "init", "--out", key, "--json"]);
  expect(init.code, init.stderr).toBe(0);
  runsDir = tempDir("cli-signed-runs");
  const r = cli(["run", "--fixture", "r1-string-slugify", "--engine", "fake-oracle", "--runs-dir", runsDir, "--key", key, "--json"]);
  expect(r.code, r.stderr).toBe(0);
  signedRun = join(runsDir, JSON.parse(r.stdout).run_id);
  expect(r.stderr).toContain(`signed: ${signedRun}/attestation.dsse.json (keyid `);
});

describe("keys init", () => {
  it("prints the keyid and paths, and refuses to overwrite (exit 64)", () => {
    const out = join(tempDir("cli-init"), "k");
    const first = cli(["keys", "init", "--out", out, "--json"]);
    expect(first.code).toBe(0);
    const doc = JSON.parse(first.stdout);
    expect(doc).toMatchObject({ private_key: out, public_key: `${out}.pub` });
    expect(doc.keyid).toMatch(/^[0-9a-f]{64}$/);
    expect(first.stdout + first.stderr).not.toContain("PRIVATE KEY");
    const again = cli(["keys", "init", "--out", out]);
    expect(again.code).toBe(64);
    expect(again.stderr).toContain("already exists; refusing to overwrite");
  });
});

describe("run --key → verify --key", () => {
  it("a signed bundle verifies offline with the signer's public key (exit 0)", () => {
    const v = cli(["verify", signedRun, "--key", `${key}.pub`, "--json"]);
    expect(v.code, v.stdout).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, status: "pass", attestation: { ok: true, signature_checked: true, predicate_type: "urn:cto-harness:predicate:run-evidence:v1" } });
    const trustDir = tempDir("cli-trust");
    cpSync(`${key}.pub`, join(trustDir, "worker-a.pub"));
    expect(cli(["verify", signedRun, "--key", trustDir]).code).toBe(0);
  });

  it("signed by an unknown key → exit 1, reason 'unknown key'", () => {
    const other = join(tempDir("cli-other"), "other");
    cli(["keys", "init", "--out", other]);
    const v = cli(["verify", signedRun, "--key", `${other}.pub`]);
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/attestation rejected \(unknown key\): signed by keyid [0-9a-f]{64}, which is not among the 1 trusted key/);
  });

  it("altered in transit → exit 1 naming the change; an unsigned bundle with --key → exit 1", () => {
    const copy = join(tempDir("cli-transit"), "run");
    cpSync(signedRun, copy, { recursive: true, verbatimSymlinks: true });
    const t = join(copy, "tests", "stdout.log");
    writeFileSync(t, readFileSync(t, "utf8") + " ");
    const v = cli(["verify", copy, "--key", `${key}.pub`]);
    expect(v.code).toBe(1);
    expect(v.stderr).toContain("modified file: tests/stdout.log (sha256 differs)");
    rmSync(join(copy, "attestation.dsse.json"));
    const unsigned = cli(["verify", copy, "--key", `${key}.pub`, "--json"]);
    expect(unsigned.code).toBe(1);
    expect(JSON.parse(unsigned.stdout).attestation).toMatchObject({ ok: false, failure: "attestation missing" });
  });

  it("bad key files are usage errors (exit 64) before any run starts", () => {
    const loose = join(tempDir("cli-loose"), "k");
    cli(["keys", "init", "--out", loose]);
    chmodSync(loose, 0o640);
    const runs = tempDir("cli-none");
    const r = cli(["run", "--fixture", "r1-string-slugify", "--engine", "fake-noop", "--runs-dir", runs, "--key", loose]);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain("--key: signing key");
    expect(r.stderr).toContain("chmod 600");
    expect(readdirSync(runs)).toEqual([]);
    const pub = cli(["run", "--fixture", "r1-string-slugify", "--engine", "fake-noop", "--runs-dir", runs, "--key", `${key}.pub`]);
    expect(pub.code).toBe(64);
    expect(pub.stderr).toContain("is not a private key");
    const privAsPub = cli(["verify", signedRun, "--key", key]);
    expect(privAsPub.code).toBe(64);
    expect(privAsPub.stderr).toContain("is a private key; give its public half");
  });

  it("the private key never reaches the agent, the bundle, or the output (the agent tries to read it)", () => {
    const dir = tempDir("cli-canary");
    // The key sits in a directory the sandbox binds for the agent (CTO_HARNESS_CASE_RO_PATHS):
    // the harness must hide it anyway. The agent dumps its environment and argv and cats the key.
    const tools = join(dir, "agent-tools");
    const keyDir = join(tools, "keys");
    mkdirSync(keyDir, { recursive: true });
    const k = join(keyDir, "signing.key");
    expect(cli(["keys", "init", "--out", k]).code).toBe(0);
    agentScript(dir, "agent.sh", `#!/bin/sh\necho "argv: $0 $*"; env; ls -la ${keyDir}; cat ${k}\necho 'CASE_RESULT {"protocol":"case-result/1","status":"gave_up","summary":"nothing"}'\n`);
    const runs = join(dir, "runs");
    const r = cli(["run", "--fixture", "r1-string-slugify", "--engine", "case", "--runs-dir", runs, "--key", k, "--json"], { CTO_HARNESS_CASE_BIN: join(dir, "agent.sh"), CTO_HARNESS_CASE_RO_PATHS: tools });
    const report = JSON.parse(r.stdout);
    expect(report.case_process_started, r.stderr).toBe(true);
    const run = join(runs, report.run_id);
    expect(report.sandbox_masked).toContain(keyDir);
    expect(existsSync(join(run, "attestation.dsse.json"))).toBe(true);
    const stdout = readFileSync(join(run, "backend", "stdout.log"), "utf8");
    expect(stdout).toContain("CTO_HARNESS_TASK_FILE");
    const pem = readFileSync(k, "utf8");
    const body = pem.split("\n").filter((l) => l && !l.startsWith("-----")).join("");
    for (const f of walk(run)) {
      const text = readFileSync(f, "latin1");
      expect(text.includes(body.slice(0, 32)), `${f} holds the private key`).toBe(false);
      // The agent's own output names the path (it tried it); nothing the harness wrote does.
      if (!f.startsWith(join(run, "backend")) && !f.endsWith("trajectory.jsonl")) expect(text.includes(k), `${f} names the key file`).toBe(false);
    }
    // The key's directory was an empty mask inside the sandbox: the agent's cat found nothing.
    expect(readFileSync(join(run, "backend", "stderr.log"), "utf8")).toMatch(/cat: .*signing\.key: No such file or directory/);
    expect(r.stdout + r.stderr).not.toContain(body.slice(0, 32));
  });

  it("a sandbox bind that is the key's own directory cannot be masked: the run is blocked, never exposed", () => {
    const dir = tempDir("cli-canary2");
    const k = join(dir, "tools", "signing.key");
    mkdirSync(join(dir, "tools"));
    cli(["keys", "init", "--out", k]);
    agentScript(dir, "agent.sh", `#!/bin/sh\ncat ${k}\n`);
    const r = cli(["run", "--fixture", "r1-string-slugify", "--engine", "case", "--runs-dir", join(dir, "runs"), "--key", k, "--json"], { CTO_HARNESS_CASE_BIN: join(dir, "agent.sh"), CTO_HARNESS_CASE_RO_PATHS: join(dir, "tools") });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: "blocked", failure_reason: "sandbox unavailable", case_process_started: false });
    expect(r.stderr).toContain("is the signing key's directory, which the agent must not read");
  });

  it("--key with --isolation none is refused, for agents and for fake engines (the fixture's tests run unsandboxed too): exit 64", () => {
    for (const [cmd, engineFlag] of [["run", "--engine"], ["loop", "--engines"]] as const) {
      for (const engine of ["builtin", "fake-oracle"]) {
        const r = cli([cmd, cmd === "run" ? "--fixture" : "--fixtures", "r1-string-slugify", engineFlag, engine, "--isolation", "none", "--runs-dir", tempDir("cli-none2"), "--key", key]);
        expect(r.code, `${cmd} ${engine}`).toBe(64);
        expect(r.stderr).toContain("--key needs --isolation bwrap");
      }
    }
  });
});

describe("no endpoint value in a signed bundle", () => {
  it("the attestation of a run on a configured real endpoint carries its provider name, never the URL or key (and verify's leak scan covers it)", () => {
    const url = "http://canary-user:canary-pass-5521@canary-host.example:8123/v1";
    const env = { CTO_HARNESS_CASE_LOCAL_BASE_URL: url, CTO_HARNESS_CASE_LOCAL_API_KEY: "sk-canary-key-7781" };
    const runs = tempDir("cli-canary-endpoint");
    const r = cli(["run", "--fixture", "r1-string-slugify", "--engine", "pi", "--provider", "qwen-local", "--runs-dir", runs, "--key", key, "--json"], env);
    expect(r.code).toBe(2); // not admitted: blocked before any traffic, and still signed
    const run = join(runs, JSON.parse(r.stdout).run_id);
    const envelope = readFileSync(join(run, "attestation.dsse.json"), "utf8");
    const statement = Buffer.from(JSON.parse(envelope).payload, "base64").toString("utf8");
    expect(JSON.parse(statement).predicate).toMatchObject({ provider: "qwen-local", endpoint_kind: "real", status: "blocked" });
    for (const needle of ["canary-host", "canary-pass-5521", "sk-canary-key-7781"]) {
      expect(statement).not.toContain(needle);
      expect(envelope).not.toContain(needle);
    }
    const v = cli(["verify", run, "--key", `${key}.pub`, "--json"], env);
    expect(v.code, v.stdout).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, leak_scan: "done", attestation: { ok: true } });
  });
});

describe("loop --key", () => {
  it("signs every run and a loop statement over all manifests; verify LOOP --key checks all; a changed run manifest is caught", () => {
    const runs = tempDir("cli-loop");
    const loopDir = join(runs, "the-loop");
    const l = cli(["loop", "--fixtures", "r1-string-slugify", "--engines", "fake-oracle", "--attempts", "2", "--runs-dir", runs, "--loop-dir", loopDir, "--key", key]);
    expect(l.code, l.stderr).toBe(0);
    expect(l.stderr).toContain(`${loopDir}/attestation.dsse.json`);
    const v = cli(["verify", loopDir, "--key", `${key}.pub`, "--json"]);
    expect(v.code, v.stdout).toBe(0);
    const doc = JSON.parse(v.stdout);
    expect(doc.runs).toHaveLength(2);
    expect(doc.runs.every((r: { ok: boolean }) => r.ok)).toBe(true);
    // Re-sign one run with another key and swap it in: its manifest no longer matches the loop's statement.
    const run = join(loopDir, doc.runs[0].run_id);
    const m = join(run, "manifest.json");
    writeFileSync(m, readFileSync(m, "utf8").replace("\n", "\n "));
    const bad = cli(["verify", loopDir, "--key", `${key}.pub`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/attestation rejected \(subject mismatch\): .*manifest\.json changed after signing/);
  });
});

describe("sot check --require-signed --keys DIR", () => {
  it("counts only bundles signed by a trusted key; an unsigned one is rejected with the reason", () => {
    const runs = tempDir("cli-sot-runs");
    // Two copies under their run_id (verify checks run_id = directory name); one loses its signature.
    const id = signedRun.split("/").pop()!;
    cpSync(signedRun, join(runs, "a", id), { recursive: true, verbatimSymlinks: true });
    cpSync(signedRun, join(runs, "b", id), { recursive: true, verbatimSymlinks: true });
    rmSync(join(runs, "b", id, "attestation.dsse.json"));
    const record = join(tempDir("cli-sot"), "record.md");
    writeFileSync(record, "## CTO-WORK-1 - Thing\n\nStatus: in-progress.\n\nAcceptance:\n\n- something\n");
    const trust = tempDir("cli-sot-trust");
    cpSync(`${key}.pub`, join(trust, "worker-a.pub"));
    const plain = JSON.parse(cli(["sot", "check", record, "--runs", runs, "--json"]).stdout);
    expect(plain.bundles.verified).toBe(2);
    const r = cli(["sot", "check", record, "--runs", runs, "--require-signed", "--keys", trust, "--json"]);
    const doc = JSON.parse(r.stdout);
    expect(doc.bundles.verified).toBe(1);
    expect(doc.bundles.rejected).toHaveLength(1);
    expect(doc.bundles.rejected[0].problems[0]).toMatch(/^attestation rejected \(attestation missing\)/);
    expect(doc.require_signed.trusted_keyids).toHaveLength(1);
    const other = tempDir("cli-sot-other");
    cli(["keys", "init", "--out", join(other, "x")]);
    rmSync(join(other, "x"));
    const strangers = JSON.parse(cli(["sot", "check", record, "--runs", runs, "--require-signed", "--keys", other, "--json"]).stdout);
    expect(strangers.bundles.verified).toBe(0);
    expect(strangers.bundles.rejected.map((x: { problems: string[] }) => x.problems[0]).join("\n")).toContain("(unknown key)");
    const noKeys = cli(["sot", "check", record, "--runs", runs, "--require-signed"]);
    expect(noKeys.code).toBe(64);
    expect(noKeys.stderr).toContain("--require-signed needs --keys DIR");
  });
});

// The user's documented shell commands (harness/evals/*.sh) work verbatim from the repo
// root, refuse clearly without their variables, and never print the endpoint value.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtemp, rm, writeFile, chmod, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

const ROOT = join(import.meta.dirname, "..");
const CANARY = "http://canary-entry:canary-entry-pass-5512@127.0.0.1:9/v1?token=canaryentrytok77";

let tmp: string;
let caseBin: string;
let admission: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "entrypoints-test-"));
  caseBin = join(tmp, "case-agent");
  await writeFile(caseBin, "#!/bin/sh\necho never started\n");
  await chmod(caseBin, 0o755);
  admission = join(tmp, "admission.yaml");
  await writeFile(admission, "admitted:\n  - {provider: qwen-local, model: qwen3.6-35b-a3b}\n");
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

// Run from the repository root, exactly as the planning record writes the commands.
const sh = (cmd: string, args: string[], env: NodeJS.ProcessEnv) =>
  spawnSync(cmd, args, { cwd: ROOT, encoding: "utf8", env: { PATH: process.env.PATH, HOME: tmp, ...env }, timeout: 120_000 });

describe("harness/evals/case-qwen-loop.sh", () => {
  it("refuses with exit 64 and a clear message when CTO_HARNESS_CASE_BIN is missing, never printing the endpoint", () => {
    const r = sh("harness/evals/case-qwen-loop.sh", ["--json"], { CTO_HARNESS_CASE_MODEL_ADMISSION_FILE: admission, CTO_HARNESS_CASE_LOCAL_BASE_URL: CANARY });
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/CTO_HARNESS_CASE_BIN is not set/);
    expect(r.stdout).toBe("");
    expect(r.stdout + r.stderr).not.toMatch(/canary/);
  });

  it("refuses with exit 64 when CTO_HARNESS_CASE_MODEL_ADMISSION_FILE is missing", () => {
    const r = sh("harness/evals/case-qwen-loop.sh", ["--json"], { CTO_HARNESS_CASE_BIN: caseBin, CTO_HARNESS_CASE_LOCAL_BASE_URL: CANARY });
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/CTO_HARNESS_CASE_MODEL_ADMISSION_FILE is not set/);
    expect(r.stdout + r.stderr).not.toMatch(/canary/);
  });

  it("refuses to change its fixed knobs", () => {
    const r = sh("harness/evals/case-qwen-loop.sh", ["--json", "--model", "other"], { CTO_HARNESS_CASE_BIN: caseBin, CTO_HARNESS_CASE_MODEL_ADMISSION_FILE: admission });
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/--model is fixed/);
  });

  it("with both variables but no endpoint: a blocked run before the Case process, report JSON on stdout, marker written", async () => {
    const runs = join(tmp, "runs-missing");
    const r = sh("harness/evals/case-qwen-loop.sh", ["--json", "--runs-dir", runs], {
      CTO_HARNESS_CASE_BIN: caseBin,
      CTO_HARNESS_CASE_MODEL_ADMISSION_FILE: admission,
    });
    expect(r.stderr).toContain("CTO_HARNESS_CASE_LOCAL_BASE_URL=missing");
    expect(r.status).toBe(2);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      status: "blocked",
      failure_reason: "provider local config unavailable",
      case_process_started: false,
      backend: "case",
      case_model_provider: "qwen-local",
      case_model: "qwen3.6-35b-a3b",
      case_model_admission_status: "admitted",
    });
    const [runDir] = await readdir(runs);
    expect(await readdir(join(runs, runDir!, "backend"))).toContain("provider-local-config-unavailable.txt");
  });

  it("with an endpoint set (unreachable canary): says only that it is set, never its value, anywhere in output", () => {
    const runs = join(tmp, "runs-canary");
    const r = sh("harness/evals/case-qwen-loop.sh", ["--json", "--runs-dir", runs], {
      CTO_HARNESS_CASE_BIN: caseBin,
      CTO_HARNESS_CASE_MODEL_ADMISSION_FILE: admission,
      CTO_HARNESS_CASE_LOCAL_BASE_URL: CANARY,
    });
    expect(r.stderr).toContain("CTO_HARNESS_CASE_LOCAL_BASE_URL=set");
    const out = r.stdout + r.stderr;
    for (const part of ["canary-entry-pass-5512", "canaryentrytok77", "canary-entry:", "127.0.0.1:9"]) expect(out).not.toContain(part);
    const report = JSON.parse(r.stdout);
    expect(report.status).toBe("blocked");
    expect(report.case_process_started).toBe(false);
  });
});

describe("harness/evals/run-case.sh", () => {
  it("--engine fake runs the fake-noop engine on r1-string-slugify by default and passes other args through", () => {
    const runs = join(tmp, "runs-fake");
    const r = sh("harness/evals/run-case.sh", ["--engine", "fake", "--runs-dir", runs, "--isolation", "none", "--json"], {});
    const report = JSON.parse(r.stdout);
    expect(report.backend).toBe("fake-noop");
    expect(report.fixture.id).toBe("r1-string-slugify");
    expect(report.status).toBe("fail"); // doing nothing must not fix the fixture
    expect(r.status).toBe(1);
  });

  it("refuses an unknown or missing --engine with 64", () => {
    expect(sh("harness/evals/run-case.sh", ["--engine", "pi"], {}).status).toBe(64);
    const none = sh("harness/evals/run-case.sh", [], {});
    expect(none.status).toBe(64);
    expect(none.stderr).toMatch(/--engine is required/);
  });
});

describe("harness/evals/health.sh", () => {
  it("delegates to cto-harness health (help text proves the wiring without running every case)", () => {
    const r = sh("harness/evals/health.sh", ["--help"], {});
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: cto-harness health/);
  });
});

describe("harness/runner/validate-case-provider-adapter.py", () => {
  const SHIM = "harness/runner/validate-case-provider-adapter.py";

  it("runs verbatim as the record documents it: `validate case-provider-adapter --json`, its exit code and one JSON document", () => {
    const r = sh("python3", [SHIM, "--harness-root", "harness", "--json"], { CTO_HARNESS_RUNS_DIR: join(tmp, "runs-shim") });
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ schema: "cto-harness/validate@1", name: "case-provider-adapter", ok: true });
    expect(doc.artifact_dir.startsWith(join(tmp, "runs-shim"))).toBe(true);
    expect(doc.cases.length).toBeGreaterThan(3);
  });

  it("passes the CLI's argv and exit code through unchanged, and refuses bad usage with 64", async () => {
    // A copy of the shim beside a stand-in bin/cto-harness that reports its argv and exits 7.
    const root = join(tmp, "shim-tree");
    const { mkdir, copyFile } = await import("node:fs/promises");
    await mkdir(join(root, "harness/runner"), { recursive: true });
    await mkdir(join(root, "bin"));
    await copyFile(join(ROOT, SHIM), join(root, SHIM));
    await writeFile(join(root, "bin/cto-harness"), '#!/bin/sh\necho "argv: $*"\nexit 7\n');
    await chmod(join(root, "bin/cto-harness"), 0o755);
    const r = spawnSync("python3", [join(root, SHIM), "--harness-root", join(ROOT, "harness"), "--json"], { encoding: "utf8", env: { PATH: process.env.PATH, HOME: tmp } });
    expect(r.status).toBe(7);
    expect(r.stdout).toBe("argv: validate case-provider-adapter --json\n");
    const plain = spawnSync("python3", [join(root, SHIM)], { encoding: "utf8", env: { PATH: process.env.PATH, HOME: tmp } });
    expect([plain.status, plain.stdout]).toEqual([7, "argv: validate case-provider-adapter\n"]);
    const badRoot = spawnSync("python3", [join(root, SHIM), "--harness-root", join(tmp, "no-such-dir")], { encoding: "utf8", env: { PATH: process.env.PATH, HOME: tmp } });
    expect(badRoot.status).toBe(64);
    expect(badRoot.stderr).toMatch(/--harness-root .*no-such-dir: not a directory/);
    const unknown = spawnSync("python3", [join(root, SHIM), "--bogus"], { encoding: "utf8", env: { PATH: process.env.PATH, HOME: tmp } });
    expect(unknown.status).toBe(64);
    expect(unknown.stdout).not.toContain("argv:");
  });
});

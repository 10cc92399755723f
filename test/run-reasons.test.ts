// Failure reasons and markers of the contract not produced elsewhere, each by a real run.
import { chmodSync, existsSync, mkdirSync, readFileSync, cpSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runOnce } from "../src/run/lifecycle.ts";
import { resetSandboxCheck } from "../src/sandbox/bwrap.ts";
import { BUILTIN_FIXTURES_DIR } from "../src/fixtures/load.ts";
import { verifyBundle } from "../src/evidence/verify.ts";
import { admissionFile, baseEnv, findCanary, tempDir } from "./helpers/run-env.ts";

const common = { model: "qwen3.6-35b-a3b", budget: 1024 };

describe("failure reasons and markers", () => {
  afterEach(() => {
    delete process.env.CTO_HARNESS_BWRAP;
    resetSandboxCheck();
  });

  it("a server that writes its reasoning into content blocks: provider response shape unavailable", async () => {
    const { report, runDir } = await runOnce({
      ...common,
      fixture: "r1-string-slugify",
      engine: "builtin",
      provider: "sim",
      isolation: "none",
      runsDir: tempDir("runs"),
      sim: { scenario: "V4" },
      env: baseEnv(),
    });
    expect(report).toMatchObject({ status: "blocked", failure_reason: "provider response shape unavailable", case_process_started: false });
    expect(report.probe?.classification).toBe("REASONING_IN_CONTENT_TAGGED");
    const marker = readFileSync(join(runDir, "backend", "provider-response-shape-unavailable.txt"), "utf8");
    expect(marker).toContain("--reasoning-parser");
    expect(existsSync(join(runDir, "probe.json"))).toBe(true);
  });

  it("a user's exported admission file (real pairs only, or even malformed) does not block the simulated provider", async () => {
    const dir = tempDir("sim-admission");
    const real = admissionFile(dir, ["qwen-local/qwen3.6-35b-a3b"]);
    const broken = join(dir, "broken.yaml");
    writeFileSync(broken, "admitted: [unclosed\n");
    for (const file of [real, broken]) {
      const { report, runDir } = await runOnce({
        ...common,
        fixture: "r1-string-slugify",
        engine: "fake-oracle",
        provider: "sim",
        isolation: "none",
        runsDir: tempDir("runs"),
        env: baseEnv({ CTO_HARNESS_CASE_MODEL_ADMISSION_FILE: file }),
      });
      expect(report).toMatchObject({ status: "pass", case_model_admission_status: "admitted", endpoint_kind: "simulated" });
      const admitted = readFileSync(join(runDir, "trace.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.type === "admission_checked");
      expect(admitted).toMatchObject({ model_admitted: true, admission_source: "simulator", admission_file: "set" });
    }
  });

  it("a sandbox that cannot start blocks the run (fail closed) with advice", async () => {
    process.env.CTO_HARNESS_BWRAP = "/nonexistent/bwrap";
    resetSandboxCheck();
    const { report, runDir } = await runOnce({
      ...common,
      fixture: "r1-string-slugify",
      engine: "builtin",
      provider: "sim",
      isolation: "bwrap",
      runsDir: tempDir("runs"),
      env: baseEnv(),
    });
    expect(report).toMatchObject({ status: "blocked", failure_reason: "sandbox unavailable", case_process_started: false, isolation: "none" });
    const marker = readFileSync(join(runDir, "backend", "sandbox-unavailable.txt"), "utf8");
    expect(marker).toContain("--isolation none");
  });

  it("a Case binary that does not exist: case process failed to start", async () => {
    const { report, runDir } = await runOnce({
      ...common,
      fixture: "r1-string-slugify",
      engine: "case",
      provider: "sim",
      isolation: "none",
      runsDir: tempDir("runs"),
      env: baseEnv({ CTO_HARNESS_CASE_BIN: "/nonexistent/case-agent" }),
    });
    // A gate: nothing else (probe, baseline, tests) was done for an agent that cannot start.
    expect(report).toMatchObject({ status: "blocked", failure_reason: "case process failed to start", case_process_started: false, tests: null });
    expect(readFileSync(join(runDir, "backend", "start-error.txt"), "utf8")).toContain("/nonexistent/case-agent, which does not exist");
    expect(existsSync(join(runDir, "baseline"))).toBe(false);
  });

  it("every gate that fails writes its marker; the first is the reason", async () => {
    const { report, runDir } = await runOnce({
      ...common,
      fixture: "r1-string-slugify",
      engine: "case",
      provider: "qwen-local",
      isolation: "none",
      runsDir: tempDir("runs"),
      env: baseEnv({ CTO_HARNESS_CASE_BIN: "/bin/true" }),
    });
    expect(report).toMatchObject({ status: "blocked", failure_reason: "model not admitted", case_process_started: false });
    expect(report.markers).toEqual(["backend/model-not-admitted.txt", "backend/provider-local-config-unavailable.txt"]);
    expect(existsSync(join(runDir, "backend", "provider-local-config-unavailable.txt"))).toBe(true);
  });

  it("a malformed admission file blocks as not admitted, naming the file and line", async () => {
    const dir = tempDir("bad-admission");
    const file = join(dir, "admission.yaml");
    writeFileSync(file, "admitted:\n  - provider: qwen-local\n    model: [unclosed\n");
    const { report, runDir } = await runOnce({
      ...common,
      fixture: "r1-string-slugify",
      engine: "case",
      provider: "qwen-local",
      isolation: "none",
      runsDir: tempDir("runs"),
      env: baseEnv({ CTO_HARNESS_CASE_BIN: "/bin/true", CTO_HARNESS_CASE_MODEL_ADMISSION_FILE: file }),
    });
    expect(report).toMatchObject({ status: "blocked", failure_reason: "model not admitted", case_model_admission_status: "not_admitted" });
    expect(readFileSync(join(runDir, "backend", "model-not-admitted.txt"), "utf8")).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:\\d+`));
  });

  it("an unknown provider or a runs dir that is a file are usage errors, before any run dir", async () => {
    const runsDir = tempDir("runs");
    await expect(runOnce({ ...common, fixture: "r1-string-slugify", engine: "fake-noop", provider: "nope", isolation: "none", runsDir, env: baseEnv() })).rejects.toThrow(/unknown provider 'nope'.*qwen-local/);
    const file = join(runsDir, "a-file");
    writeFileSync(file, "");
    await expect(runOnce({ ...common, fixture: "r1-string-slugify", engine: "fake-noop", provider: "sim", isolation: "none", runsDir: file, env: baseEnv() })).rejects.toThrow(/not a directory/);
  });

  it("a fixture whose tests pass without any change: the baseline makes every pass invalid", async () => {
    const dir = join(tempDir("broken-fixture"), "always-green");
    cpSync(join(BUILTIN_FIXTURES_DIR, "r1-string-slugify"), dir, { recursive: true });
    // The reference fix already applied to the repo: doing nothing passes.
    cpSync(join(dir, "solution", "src", "slugify.js"), join(dir, "repo", "src", "slugify.js"));
    writeFileSync(join(dir, "fixture.yaml"), readFileSync(join(dir, "fixture.yaml"), "utf8").replace(/^id: .*$/m, "id: always-green"));
    const { report } = await runOnce({ ...common, fixture: dir, engine: "fake-oracle", provider: "sim", isolation: "none", runsDir: tempDir("runs"), env: baseEnv() });
    expect(report.tests?.passed).toBe(true);
    expect(report).toMatchObject({ status: "fail", failure_reason: "baseline invalid" });
    expect(report.baseline_comparison).toMatchObject({ baseline_status: "pass", valid_for_pass_claim: false });
  });

  it("a fault inside the harness still leaves a complete report: harness error", async () => {
    const runDir = join(tempDir("runs"), "fixed-run");
    mkdirSync(runDir);
    writeFileSync(join(runDir, "workspace"), "a file where the workspace directory must go");
    const { report } = await runOnce({
      ...common,
      fixture: "r1-string-slugify",
      engine: "fake-noop",
      provider: "sim",
      isolation: "none",
      runsDir: tempDir("runs"),
      runDirPath: runDir,
      env: baseEnv(),
    });
    expect(report).toMatchObject({ status: "error", failure_reason: "harness error" });
    expect(existsSync(join(runDir, "backend", "harness-error.txt"))).toBe(true);
    expect((await verifyBundle(runDir)).ok).toBe(true);
  });
});

describe("evidence that cannot lie", () => {
  it("a secret the agent writes into its summary and a file name is redacted everywhere, report included", async () => {
    const { startSimulator } = await import("../src/sim/server.ts");
    const sim = await startSimulator({ scenario: "solve" });
    try {
      const dir = tempDir("leaky");
      const password = "leakpass-5512-zz";
      const url = sim.baseUrl.replace("http://", `http://user:${password}@`);
      const agent = join(dir, "leaky.mjs");
      writeFileSync(
        agent,
        `#!/usr/bin/env node
import { writeFileSync } from "node:fs";
await fetch(process.env.OPENAI_BASE_URL + "/chat/completions", { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer " + process.env.OPENAI_API_KEY }, body: JSON.stringify({ model: process.env.OPENAI_MODEL, messages: [{ role: "user", content: "hi" }], max_tokens: 16 }) }).then((r) => r.text());
// It learnt the password somewhere (here: baked in) and writes it out.
writeFileSync("leak-${password}.txt", "x");
console.log('CASE_RESULT {"protocol":"case-result/1","status":"completed","summary":"the password is ${password}"}');
`,
      );
      chmodSync(agent, 0o755);
      const admission = admissionFile(dir, ["qwen-local/qwen3.6-35b-a3b"]);
      const { report, runDir } = await runOnce({
        ...common,
        fixture: "r1-string-slugify",
        engine: "case",
        provider: "qwen-local",
        isolation: "none",
        runsDir: tempDir("runs"),
        env: baseEnv({ CTO_HARNESS_CASE_BIN: agent, CTO_HARNESS_CASE_LOCAL_BASE_URL: url, CTO_HARNESS_CASE_MODEL_ADMISSION_FILE: admission }),
      });
      expect(report).toMatchObject({ status: "fail", failure_reason: "secret leak detected" });
      expect(JSON.stringify(report)).not.toContain(password);
      expect(findCanary(runDir, [password])).toEqual([]);
      const v = await verifyBundle(runDir, { secrets: [url] });
      expect(v.problems).toEqual([]);
      expect(v.leak_scan).toBe("done");
    } finally {
      await sim.close();
    }
  });

  it("verify catches a report edited together with a recomputed manifest, when its evidence files disagree", async () => {
    const { writeManifest } = await import("../src/evidence/manifest.ts");
    const { runDir } = await runOnce({ ...common, fixture: "r1-string-slugify", engine: "fake-noop", provider: "sim", isolation: "none", runsDir: tempDir("runs"), env: baseEnv() });
    const reportPath = join(runDir, "report.json");
    const r = JSON.parse(readFileSync(reportPath, "utf8"));
    r.tests.passed = true;
    r.tests.exit_code = 0;
    r.changed_files = ["src/slugify.js"];
    writeFileSync(reportPath, JSON.stringify(r));
    await writeManifest(runDir);
    const v = await verifyBundle(runDir);
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual(expect.arrayContaining(["report.tests does not match tests/result.json", "report.changed_files does not match changed-files.json"]));
  });

  it("a simulated pass relabelled as a real Case pass (manifest recomputed) does not verify", async () => {
    const { writeManifest } = await import("../src/evidence/manifest.ts");
    const { report, runDir } = await runOnce({ ...common, fixture: "r1-string-slugify", engine: "builtin", provider: "sim", isolation: "none", runsDir: tempDir("runs"), env: baseEnv() });
    expect(report.status).toBe("pass");
    const reportPath = join(runDir, "report.json");
    const r = JSON.parse(readFileSync(reportPath, "utf8"));
    Object.assign(r, { endpoint_kind: "real", case_model_provider: "qwen-local", backend: "case" });
    writeFileSync(reportPath, JSON.stringify(r));
    await writeManifest(runDir);
    const v = await verifyBundle(runDir);
    expect(v.ok).toBe(false);
    expect(v.problems.join("\n")).toMatch(/task\.json asked for engine builtin/);
    expect(v.problems.join("\n")).toMatch(/task\.json asked for provider sim/);
    expect(v.problems.join("\n")).toMatch(/endpoint_kind simulated|saw the simulator/);
  });
});

describe("endpoint configuration", () => {
  it("a URL variable that is not a URL blocks as provider config unavailable, without printing it", async () => {
    const dir = tempDir("bad-url");
    const { report, runDir } = await runOnce({
      ...common,
      fixture: "r1-string-slugify",
      engine: "case",
      provider: "qwen-local",
      isolation: "none",
      runsDir: tempDir("runs"),
      env: baseEnv({
        CTO_HARNESS_CASE_BIN: "/bin/true",
        CTO_HARNESS_CASE_LOCAL_BASE_URL: "not-a-url-canary-77",
        CTO_HARNESS_CASE_MODEL_ADMISSION_FILE: admissionFile(dir, ["qwen-local/qwen3.6-35b-a3b"]),
      }),
    });
    expect(report).toMatchObject({ status: "blocked", failure_reason: "provider local config unavailable", case_process_started: false });
    expect(readFileSync(join(runDir, "backend", "provider-local-config-unavailable.txt"), "utf8")).toContain("not an http(s) URL");
    expect(findCanary(runDir, ["not-a-url-canary-77"])).toEqual([]);
  });
});

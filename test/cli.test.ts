// The CLI contract as a user meets it: the binary from a clone, exit codes, --json.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { agentScript, tempDir } from "./helpers/run-env.ts";

const BIN = fileURLToPath(new URL("../bin/cto-harness", import.meta.url));

function cli(args: string[], env: Record<string, string> = {}, cwd?: string) {
  // A PATH without the project's Node first: bin/cto-harness must find it by itself.
  const r = spawnSync(BIN, args, { encoding: "utf8", env: { PATH: "/usr/local/bin:/usr/bin:/bin", ...env }, timeout: 120_000, cwd });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("cto-harness CLI", () => {
  it("--help works straight from the clone", () => {
    const r = cli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: cto-harness");
    for (const c of ["run", "loop", "probe", "proxy", "verify", "health", "sot", "fixtures", "sim", "demo"]) expect(r.stdout).toContain(c);
  });

  it("run --json prints exactly one JSON document and exits by status", () => {
    const runsDir = tempDir("cli-runs");
    const noop = cli(["run", "--fixture", "r1-string-slugify", "--engine", "fake-noop", "--isolation", "none", "--runs-dir", runsDir, "--json"]);
    expect(noop.code).toBe(1);
    const report = JSON.parse(noop.stdout);
    expect(report).toMatchObject({ schema: "cto-harness/report@1", status: "fail", failure_reason: "tests failed" });
    expect(noop.stderr).toContain(`${runsDir}/${report.run_id}`);
    const oracle = cli(["run", "--fixture", "r1-string-slugify", "--engine", "fake-oracle", "--isolation", "none", "--runs-dir", runsDir, "--json"]);
    expect(oracle.code).toBe(0);
    expect(JSON.parse(oracle.stdout).status).toBe("pass");
  });

  it("demo without bubblewrap: runs with isolation none, loudly, even with the user's admission file exported; run still fails closed", () => {
    const runsDir = tempDir("cli-demo-nobwrap");
    const admission = join(runsDir, "admission.yaml");
    writeFileSync(admission, "admitted:\n  - provider: qwen-local\n    model: qwen3.6-35b-a3b\n");
    const env = { CTO_HARNESS_BWRAP: "/nonexistent/bwrap", CTO_HARNESS_CASE_MODEL_ADMISSION_FILE: admission };
    const demo = cli(["demo", "--runs-dir", runsDir, "--json"], env);
    expect(demo.code, demo.stderr).toBe(0);
    const report = JSON.parse(demo.stdout);
    expect(report).toMatchObject({ status: "pass", isolation: "none", endpoint_kind: "simulated", case_model_admission_status: "admitted" });
    expect(report.isolation_fallback).toMatchObject({ from: "bwrap", to: "none" });
    expect(report.isolation_fallback.fix).toMatch(/bubblewrap/);
    expect(demo.stderr).toMatch(/WARNING: bubblewrap is unavailable, so this demo runs WITHOUT A SANDBOX/);
    expect(demo.stderr).toMatch(/WARNING: NO SANDBOX/);
    // Asked for explicitly, the demo does not fall back either.
    const strict = cli(["demo", "--isolation", "bwrap", "--runs-dir", runsDir, "--json"], env);
    expect(strict.code).toBe(2);
    expect(JSON.parse(strict.stdout)).toMatchObject({ status: "blocked", failure_reason: "sandbox unavailable" });
    // run is not the demo: it stays fail-closed.
    const run = cli(["run", "--fixture", "r1-string-slugify", "--engine", "builtin", "--runs-dir", runsDir, "--json"], env);
    expect(run.code).toBe(2);
    const blocked = JSON.parse(run.stdout);
    expect(blocked).toMatchObject({ status: "blocked", failure_reason: "sandbox unavailable", case_process_started: false });
    expect(blocked.isolation_fallback).toBeUndefined();
  });

  it("blocked runs exit 2; verify exits 0 on the bundle", () => {
    const runsDir = tempDir("cli-runs");
    const r = cli(["run", "--fixture", "r1-string-slugify", "--engine", "case", "--provider", "qwen-local", "--runs-dir", runsDir, "--json"]);
    expect(r.code).toBe(2);
    const report = JSON.parse(r.stdout);
    expect(report.failure_reason).toBe("model not admitted");
    const v = cli(["verify", `${runsDir}/${report.run_id}`, "--json"]);
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout).ok).toBe(true);
  });

  it("relative paths (runs dir, Case binary) mean relative to where cto-harness was started", () => {
    const dir = tempDir("cli-relative");
    agentScript(dir, "agent.sh", '#!/bin/sh\necho \'CASE_RESULT {"protocol":"case-result/1","status":"gave_up","summary":"nothing"}\'\n');
    const r = cli(["run", "--fixture", "r1-string-slugify", "--engine", "case", "--isolation", "none", "--runs-dir", "runs", "--json"], { CTO_HARNESS_CASE_BIN: "./agent.sh" }, dir);
    const report = JSON.parse(r.stdout);
    // It never asked the model anything: its result says nothing about the model.
    expect(report).toMatchObject({ case_process_started: true, backend_exit_code: 0, failure_reason: "no model traffic" });
    expect(report.markers).toContain("backend/no-model-traffic.txt");
    expect(report.agent_result).toMatchObject({ protocol_valid: true, status: "gave_up" });
    expect(existsSync(join(dir, "runs", report.run_id, "report.json"))).toBe(true);
  });

  it("usage errors exit 64 and say what to do", () => {
    const unknownFixture = cli(["run", "--fixture", "no-such-fixture", "--engine", "fake-noop", "--runs-dir", tempDir("cli-runs")]);
    expect(unknownFixture.code).toBe(64);
    expect(unknownFixture.stderr).toContain("r1-string-slugify");
    const badEngine = cli(["run", "--fixture", "r1-string-slugify", "--engine", "gpt"]);
    expect(badEngine.code).toBe(64);
    expect(badEngine.stderr).toContain("fake-noop");
    expect(cli(["run"]).code).toBe(64);
    expect(cli(["verify", "/nonexistent/run"]).code).toBe(64);
    const notARun = cli(["verify", tempDir("cli-empty")]);
    expect(notARun.code).toBe(64);
    expect(notARun.stderr).toContain("is not a run directory");
  });
});

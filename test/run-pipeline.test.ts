// End to end through runOnce: fake engines, the case engine with agents that behave well,
// write garbage, hang, or must never start; gates; verify; interruption.
import { existsSync, readFileSync, writeFileSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runOnce } from "../src/run/lifecycle.ts";
import { verifyBundle } from "../src/evidence/verify.ts";
import { BUILTIN_FIXTURES_DIR } from "../src/fixtures/load.ts";
import { admissionFile, agentScript, baseEnv, findCanary, isAlive, tempDir } from "./helpers/run-env.ts";

const MODEL = "qwen3.6-35b-a3b";
const common = { model: MODEL, isolation: "none" as const, budget: 1024 };
const fixedSlugify = join(BUILTIN_FIXTURES_DIR, "r1-string-slugify", "solution", "src", "slugify.js");

function traceTypes(runDir: string): string[] {
  return readFileSync(join(runDir, "trace.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).type as string);
}

describe("run pipeline", () => {
  it("fake-oracle passes with a failing same-run baseline, and the bundle verifies", async () => {
    const runsDir = tempDir("runs");
    const { report, runDir } = await runOnce({ ...common, fixture: "r1-string-slugify", engine: "fake-oracle", provider: "sim", runsDir, env: baseEnv() });
    expect(report.status).toBe("pass");
    expect(report.baseline_comparison).toMatchObject({ baseline_backend: "fake-noop", baseline_status: "fail", valid_for_pass_claim: true });
    expect(report.changed_files).toEqual(["src/slugify.js"]);
    expect(report.patch.bytes).toBeGreaterThan(0);
    expect(report.endpoint_kind).toBe("simulated");
    expect(existsSync(join(runDir, "baseline", "report.json"))).toBe(true);
    for (const f of ["task.json", "trace.jsonl", "manifest.json", "workspace.patch", "changed-files.json", "tests/result.json", "tests/stdout.log"]) {
      expect(existsSync(join(runDir, f)), f).toBe(true);
    }
    expect(traceTypes(runDir)).toEqual(expect.arrayContaining(["run_started", "admission_checked", "baseline_finished", "case_process_started", "tests_finished", "secret_scan_finished", "run_finished"]));
    const v = await verifyBundle(runDir);
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);
  });

  it("verify fails on any tampered byte, a removed file or an added file", async () => {
    const runsDir = tempDir("runs");
    const { runDir } = await runOnce({ ...common, fixture: "r1-string-slugify", engine: "fake-noop", provider: "sim", runsDir, env: baseEnv() });
    expect((await verifyBundle(runDir)).ok).toBe(true);
    const log = join(runDir, "tests", "stdout.log");
    appendFileSync(log, " ");
    const v = await verifyBundle(runDir);
    expect(v.ok).toBe(false);
    expect(v.problems.join("\n")).toContain("modified file: tests/stdout.log");
    // A report edited to claim a pass fails both the hash and the baseline rule.
    const reportPath = join(runDir, "report.json");
    const r = JSON.parse(readFileSync(reportPath, "utf8"));
    r.status = "pass";
    writeFileSync(reportPath, JSON.stringify(r));
    expect((await verifyBundle(runDir)).problems.join("\n")).toContain("modified file: report.json");
    writeFileSync(join(runDir, "extra.txt"), "x");
    expect((await verifyBundle(runDir)).problems.join("\n")).toContain("file not in manifest: extra.txt");
  });

  it("fake-noop fails its tests and carries no baseline of its own", async () => {
    const runsDir = tempDir("runs");
    const { report } = await runOnce({ ...common, fixture: "r1-string-slugify", engine: "fake-noop", provider: "sim", runsDir, env: baseEnv() });
    expect(report.status).toBe("fail");
    expect(report.failure_reason).toBe("tests failed");
    expect(report.baseline_comparison).toBeNull();
    expect(report.changed_files).toEqual([]);
    expect(report.patch.bytes).toBe(0);
  });

  it("a well-behaved case agent: talks to the proxy, fixes, writes case-result/1 → pass", async () => {
    const dir = tempDir("case-good");
    const bin = agentScript(
      dir,
      "case-good.mjs",
      `#!/usr/bin/env node
import { copyFileSync, writeFileSync, readFileSync } from "node:fs";
const task = JSON.parse(readFileSync(process.env.CTO_HARNESS_TASK_FILE, "utf8"));
const r = await fetch(process.env.OPENAI_BASE_URL + "/chat/completions", {
  method: "POST",
  headers: { "content-type": "application/json", authorization: "Bearer " + process.env.OPENAI_API_KEY },
  body: JSON.stringify({ model: process.env.OPENAI_MODEL, messages: [{ role: "user", content: task.instruction }], max_tokens: 256 }),
});
console.log("model status", r.status);
copyFileSync(${JSON.stringify(fixedSlugify)}, "src/slugify.js");
writeFileSync(process.env.CTO_HARNESS_RESULT_FILE, JSON.stringify({ protocol: "case-result/1", status: "completed", summary: "fixed slugify" }));
`,
    );
    const runsDir = tempDir("runs");
    const { report, runDir } = await runOnce({
      ...common,
      fixture: "r1-string-slugify",
      engine: "case",
      provider: "sim",
      runsDir,
      env: baseEnv({ CTO_HARNESS_CASE_BIN: bin }),
    });
    expect(report.status, report.failure_detail ?? "").toBe("pass");
    expect(report.case_process_started).toBe(true);
    expect(report.agent_result).toMatchObject({ protocol_valid: true, source: "result-file", status: "completed" });
    expect(report.model_traffic.requests).toBeGreaterThanOrEqual(1);
    expect(report.model_traffic.models_seen).toEqual([MODEL]);
    // What the server says answered, not only what was asked for.
    expect(report.model_traffic.models_answered).toEqual([MODEL]);
    expect(report.model_traffic.answered_by_admitted_model).toBeGreaterThanOrEqual(1);
    expect(readFileSync(join(runDir, "backend", "stdout.log"), "utf8")).toContain("model status 200");
    expect(JSON.parse(readFileSync(join(runDir, "backend", "result.json"), "utf8")).summary).toBe("fixed slugify");
    expect(traceTypes(runDir)).toContain("model_request");
  });

  it("the user's failure: agent runs, no valid result, no change ⇒ protocol failed, explained", async () => {
    const dir = tempDir("case-garbage");
    const bin = agentScript(dir, "case-garbage.sh", "#!/bin/sh\necho 'Thinking about slugify...'\necho '{\"status\": \"done\"'\nexit 1\n");
    const runsDir = tempDir("runs");
    const { report, runDir } = await runOnce({ ...common, fixture: "r1-string-slugify", engine: "case", provider: "sim", runsDir, env: baseEnv({ CTO_HARNESS_CASE_BIN: bin }) });
    expect(report.status).toBe("fail");
    expect(report.failure_reason).toBe("case agent result protocol failed");
    expect(report.backend_exit_code).toBe(1);
    expect(report.changed_files).toEqual([]);
    expect(readFileSync(join(runDir, "workspace.patch"), "utf8")).toBe("");
    expect(report.tests?.passed).toBe(false);
    const marker = readFileSync(join(runDir, "backend", "case-result-protocol-failed.txt"), "utf8");
    expect(marker).toContain("Expected:");
    expect(marker).toContain("Thinking about slugify...");
    expect(marker).toContain('{\\"status\\": \\"done\\"');
    expect(report.markers).toContain("backend/case-result-protocol-failed.txt");
  });

  it("a malformed result file gives the JSON error position", async () => {
    const dir = tempDir("case-badjson");
    const bin = agentScript(dir, "case-badjson.sh", '#!/bin/sh\nprintf \'{"protocol":"case-result/1","status":"completed",}\' > "$CTO_HARNESS_RESULT_FILE"\n');
    const runsDir = tempDir("runs");
    const { report, runDir } = await runOnce({ ...common, fixture: "r1-string-slugify", engine: "case", provider: "sim", runsDir, env: baseEnv({ CTO_HARNESS_CASE_BIN: bin }) });
    expect(report.failure_reason).toBe("case agent result protocol failed");
    expect(readFileSync(join(runDir, "backend", "case-result-protocol-failed.txt"), "utf8")).toMatch(/not valid JSON: .*position \d+/);
  });

  it("a hanging agent is killed at the timeout, with its whole process group", async () => {
    const dir = tempDir("case-hang");
    const pidFile = join(dir, "child.pid");
    const bin = agentScript(dir, "case-hang.sh", `#!/bin/sh\nsleep 300 &\necho $! > ${pidFile}\nwait\n`);
    const runsDir = tempDir("runs");
    const t0 = Date.now();
    const { report } = await runOnce({ ...common, fixture: "r1-string-slugify", engine: "case", provider: "sim", runsDir, agentTimeoutSec: 1, env: baseEnv({ CTO_HARNESS_CASE_BIN: bin }) });
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(report.status).toBe("fail");
    expect(report.failure_reason).toBe("case process timed out");
    expect(report.markers).toEqual(["backend/case-process-timed-out.txt"]);
    const childPid = Number(readFileSync(pidFile, "utf8"));
    await new Promise((r) => setTimeout(r, 200));
    expect(isAlive(childPid)).toBe(false);
  });

  it("missing local endpoint config blocks before the agent starts; the binary is never executed", async () => {
    const dir = tempDir("case-never");
    const sentinel = join(dir, "executed");
    const bin = agentScript(dir, "case-never.sh", `#!/bin/sh\ntouch ${sentinel}\n`);
    const runsDir = tempDir("runs");
    const { report, runDir } = await runOnce({
      ...common,
      fixture: "r1-string-slugify",
      engine: "case",
      provider: "qwen-local",
      runsDir,
      env: baseEnv({ CTO_HARNESS_CASE_BIN: bin, CTO_HARNESS_CASE_MODEL_ADMISSION_FILE: admissionFile(dir, ["qwen-local/qwen3.6-35b-a3b"]) }),
    });
    expect(report.status).toBe("blocked");
    expect(report.failure_reason).toBe("provider local config unavailable");
    expect(report.case_process_started).toBe(false);
    expect(report.case_model_provider).toBe("qwen-local");
    expect(report.case_model_admission_status).toBe("admitted");
    expect(existsSync(sentinel)).toBe(false);
    const marker = readFileSync(join(runDir, "backend", "provider-local-config-unavailable.txt"), "utf8");
    expect(marker).toContain("CTO_HARNESS_CASE_LOCAL_BASE_URL");
    expect(traceTypes(runDir)).not.toContain("case_process_started");
    expect((await verifyBundle(runDir)).ok).toBe(true);
  });

  it("a model that is not admitted is blocked with its marker", async () => {
    const dir = tempDir("admit");
    const runsDir = tempDir("runs");
    const { report, runDir } = await runOnce({
      ...common,
      fixture: "r1-string-slugify",
      engine: "case",
      provider: "qwen-local",
      model: "claude-sonnet-4-6",
      runsDir,
      env: baseEnv({ CTO_HARNESS_CASE_MODEL_ADMISSION_FILE: admissionFile(dir, ["qwen-local/qwen3.6-35b-a3b"]) }),
    });
    expect(report).toMatchObject({ status: "blocked", failure_reason: "model not admitted", case_model_admission_status: "not_admitted", case_process_started: false });
    expect(readFileSync(join(runDir, "backend", "model-not-admitted.txt"), "utf8")).toContain("qwen-local/claude-sonnet-4-6");
  });

  it("a fixture under a protected path is refused without being read", async () => {
    const runsDir = tempDir("runs");
    const { report, runDir } = await runOnce({
      ...common,
      fixture: join(BUILTIN_FIXTURES_DIR, "r1-string-slugify"),
      engine: "fake-oracle",
      provider: "sim",
      runsDir,
      env: baseEnv({ CTO_HARNESS_PROTECTED_PATHS: `/nonexistent:${BUILTIN_FIXTURES_DIR}` }),
    });
    expect(report).toMatchObject({ status: "blocked", failure_reason: "source not admitted", source_admission_status: "not_admitted", case_process_started: false });
    expect(existsSync(join(runDir, "backend", "source-not-admitted.txt"))).toBe(true);
    expect(existsSync(join(runDir, "workspace"))).toBe(false);
  });

  it("an unreachable endpoint blocks, and canary URL parts appear nowhere in the bundle", async () => {
    const dir = tempDir("canary");
    const runsDir = tempDir("runs");
    const canary = "http://canaryuser:canary-pass-7741@127.0.0.1:9/v1?token=tok-canary-3318";
    const { report, runDir } = await runOnce({
      ...common,
      fixture: "r1-string-slugify",
      engine: "case",
      provider: "qwen-local",
      runsDir,
      env: baseEnv({
        CTO_HARNESS_CASE_LOCAL_BASE_URL: canary,
        CTO_HARNESS_CASE_LOCAL_API_KEY: "sk-canary-key-99120",
        CTO_HARNESS_CASE_BIN: "/bin/true",
        CTO_HARNESS_CASE_MODEL_ADMISSION_FILE: admissionFile(dir, ["qwen-local/qwen3.6-35b-a3b"]),
      }),
    });
    expect(report).toMatchObject({ status: "blocked", failure_reason: "provider unreachable", case_process_started: false });
    expect(existsSync(join(runDir, "backend", "provider-unreachable.txt"))).toBe(true);
    expect(findCanary(runDir, ["canary-pass-7741", "tok-canary-3318", "canaryuser:canary", "sk-canary-key-99120"])).toEqual([]);
  });

  it("Ctrl-C during the agent ends the run `interrupted` with a complete report", async () => {
    const dir = tempDir("case-int");
    const bin = agentScript(dir, "case-int.sh", "#!/bin/sh\nsleep 60\n");
    const runsDir = tempDir("runs");
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 1500);
    const { report, runDir } = await runOnce({ ...common, fixture: "r1-string-slugify", engine: "case", provider: "sim", runsDir, signal: controller.signal, env: baseEnv({ CTO_HARNESS_CASE_BIN: bin }) });
    expect(report).toMatchObject({ status: "error", failure_reason: "interrupted" });
    expect((await verifyBundle(runDir)).ok).toBe(true);
  });

  it("an agent that asks for another model mid-run is refused: model fallback detected", async () => {
    const dir = tempDir("case-fallback");
    const bin = agentScript(
      dir,
      "case-fallback.mjs",
      `#!/usr/bin/env node
import { writeFileSync } from "node:fs";
for (const model of [process.env.OPENAI_MODEL, "claude-sonnet-4-6"]) {
  const r = await fetch(process.env.OPENAI_BASE_URL + "/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer " + process.env.OPENAI_API_KEY },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], max_tokens: 64 }),
  });
  console.log(model, r.status);
}
writeFileSync(process.env.CTO_HARNESS_RESULT_FILE, JSON.stringify({ protocol: "case-result/1", status: "completed", summary: "x" }));
`,
    );
    const runsDir = tempDir("runs");
    const { report, runDir } = await runOnce({ ...common, fixture: "r1-string-slugify", engine: "case", provider: "sim", runsDir, env: baseEnv({ CTO_HARNESS_CASE_BIN: bin }) });
    expect(report.failure_reason).toBe("model fallback detected");
    expect(report.model_traffic.fallback_detected).toBe(true);
    expect(report.model_traffic.models_seen).toEqual([MODEL, "claude-sonnet-4-6"]);
    expect(readFileSync(join(runDir, "backend", "stdout.log"), "utf8")).toContain("claude-sonnet-4-6 403");
    expect(readFileSync(join(runDir, "backend", "model-fallback-detected.txt"), "utf8")).toContain("claude-sonnet-4-6");
  });
});

// Harbor tasks of our own (test/data/harbor-tasks/), judged as Harbor judges them, in
// bubblewrap, offline: each keeps oracle-pass/noop-fail; the reward file decides; a task that
// needs a container says so; a missing command is named; an agent works through /app and
// never sees /tests or /solution; nothing is left outside the temporary directories; and no
// fixture script runs on the host unless the user says `--isolation none`.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { checkFixture } from "../src/judge/fixture-check.ts";
import { FixtureError, loadFixture } from "../src/fixtures/load.ts";
import { runOnce } from "../src/run/lifecycle.ts";
import { ASK_MODEL_SH, hostileAgent, runHostile } from "./helpers/hostile.ts";
import { baseEnv, tempDir } from "./helpers/run-env.ts";
import { sandboxed } from "./helpers/sandboxed.ts";

const TASKS = fileURLToPath(new URL("./data/harbor-tasks/", import.meta.url));
const BROKEN = fileURLToPath(new URL("./data/harbor-broken/", import.meta.url));
const CLI = fileURLToPath(new URL("../bin/cto-harness", import.meta.url));
const RUNNABLE = readdirSync(TASKS).filter((n) => n !== "needs-container-user").sort();

const created: string[] = [];
afterAll(() => {
  for (const d of created) rmSync(d, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(CLI, args, { encoding: "utf8", env: { ...baseEnv(), ...env }, timeout: 240_000 });
}

async function run(task: string, engine: "fake-oracle" | "fake-noop", dir = TASKS) {
  const runsDir = tempDir("harbor-runs");
  created.push(runsDir);
  return runOnce({ fixture: join(dir, task), engine, provider: "sim", model: "m", isolation: "bwrap", budget: 1024, runsDir, env: baseEnv() });
}

describe("Harbor tasks of our own", () => {
  it("there are at least eight, and every runnable one keeps oracle pass and noop fail in the sandbox", async () => {
    expect(readdirSync(TASKS).length).toBeGreaterThanOrEqual(8);
    const box = await sandboxed();
    for (const name of RUNNABLE) {
      const r = await checkFixture(await loadFixture(join(TASKS, name)), box);
      expect(r, name).toMatchObject({ oracle_passed: true, noop_failed: true, ok: true, isolation: "bwrap" });
    }
  }, 240_000);

  it("the reward file decides: test.sh exits 0 either way, the noop run fails on reward 0, the oracle passes on 1", async () => {
    const oracle = await run("app-uvx-reward-txt", "fake-oracle");
    expect(oracle.report.status).toBe("pass");
    expect(oracle.report.judge?.harbor).toMatchObject({ workdir: "/app", view: true, reward: 1, reward_source: "reward.txt", ctrf_tests: 3 });
    expect(oracle.report.tests?.command).toBe("bash /tests/test.sh");
    // pytest's results come from the collectors' authenticated records (not the CTRF report, which
    // the code under test could write): three named tests, counted against the oracle's.
    expect(oracle.report.judge?.tests).toMatchObject({ expected: 3, expected_passed: 3, count_verified: true, missing: [] });
    expect(oracle.report.judge?.notes.join("\n")).not.toMatch(/CTRF|not verified/);
    expect(readFileSync(join(oracle.runDir, "logs", "verifier", "reward.txt"), "utf8").trim()).toBe("1");
    const manifest = JSON.parse(readFileSync(join(oracle.runDir, "manifest.json"), "utf8")) as { files: { path: string }[] };
    expect(manifest.files.map((f) => f.path)).toEqual(expect.arrayContaining(["logs/verifier/reward.txt", "logs/verifier/ctrf.json"]));
    const noop = await run("app-uvx-reward-txt", "fake-noop");
    expect(noop.report).toMatchObject({ status: "fail", failure_reason: "tests failed" });
    expect(noop.report.tests).toMatchObject({ exit_code: 0, passed: false });
    expect(noop.report.judge?.harbor).toMatchObject({ reward: 0, reward_source: "reward.txt" });
  }, 120_000);

  it("pytest in a later Python process (no key): only the CTRF report names the tests, unauthenticated, so the count is not verified", async () => {
    const dir = join(tempDir("harbor-late-pytest"), "t");
    created.push(dir);
    cpSync(join(TASKS, "app-uvx-reward-txt"), dir, { recursive: true });
    const sh = readFileSync(join(dir, "tests", "test.sh"), "utf8").replace("source $HOME/.local/bin/env\n", "source $HOME/.local/bin/env\npython3 -c pass\n");
    writeFileSync(join(dir, "tests", "test.sh"), sh);
    const oracle = await run("t", "fake-oracle", join(dir, ".."));
    expect(oracle.report.status).toBe("pass");
    expect(oracle.report.judge?.harbor).toMatchObject({ reward: 1, ctrf_tests: 3 });
    expect(oracle.report.judge?.tests).toMatchObject({ expected: null, count_verified: false });
    expect(oracle.report.judge?.notes.join("\n")).toMatch(/CTRF report's only[\s\S]*not verified/);
  }, 120_000);

  it("reward.json is read before reward.txt, as Harbor does (reward.txt says 1, reward.json 0)", async () => {
    const noop = await run("json-over-txt", "fake-noop");
    expect(noop.report.status).toBe("fail");
    expect(noop.report.judge?.harbor).toMatchObject({ reward: 0, reward_source: "reward.json" });
    expect(readFileSync(join(noop.runDir, "logs", "verifier", "reward.txt"), "utf8").trim()).toBe("1");
  }, 60_000);

  it("a task that needs a container: fixtures check says so, a run is blocked with its marker and nothing started", async () => {
    const r = await checkFixture(await loadFixture(join(TASKS, "needs-container-user")), await sandboxed());
    expect(r.ok).toBe(false);
    expect(r.problems[0]).toMatch(/^needs a container: .*another user/);
    expect(r.harbor?.needs_container.join("\n")).toMatch(/USER svc/);
    const { report, runDir } = await run("needs-container-user", "fake-oracle");
    expect(report).toMatchObject({ status: "blocked", failure_reason: "needs a container", case_process_started: false });
    expect(report.markers).toContain("backend/needs-a-container.txt");
    expect(readFileSync(join(runDir, "backend", "needs-a-container.txt"), "utf8")).toMatch(/USER svc/);
  }, 60_000);

  it("a verifier that fails on a missing command ends with a marker naming it and the RUN line", async () => {
    const { report, runDir } = await run("missing-command", "fake-oracle", BROKEN);
    expect(report.status).toBe("fail");
    expect(report.markers).toContain("backend/harbor-command-missing.txt");
    expect(report.judge?.harbor?.missing_commands).toEqual([{ command: "frobcheck", run_line: 2, run: "apt-get update && apt-get install -y frobcheck" }]);
    expect(readFileSync(join(runDir, "backend", "harbor-command-missing.txt"), "utf8")).toMatch(/frobcheck[\s\S]*line 2/);
  }, 60_000);

  it("an agent fixes a task through /app paths, in /app, and never sees /tests, /solution or /logs/verifier", async () => {
    const body = [
      `sed -i 's/text.split(" ")/text.split()/' /app/wordcount.py`,
      `{ pwd; ls /tests /solution /logs/verifier; ls /opt 2>&1; } > /logs/agent/seen.txt 2>&1`,
      `printf '{"protocol":"case-result/1","status":"completed","summary":"s"}' > "$CTO_HARNESS_RESULT_FILE"`,
    ].join("\n");
    const agent = hostileAgent("harbor-app", `#!/bin/sh\n${ASK_MODEL_SH}\n${body}\n`);
    const r = await runHostile({ agent, fixture: join(TASKS, "app-uvx-reward-txt") });
    created.push(agent.dir, r.runsDir);
    expect(r.report.status, `${r.report.failure_reason} ${r.report.failure_detail} ${readFileSync(join(r.runDir, "backend", "stderr.log"), "utf8")}`).toBe("pass");
    expect(r.report.changed_files).toEqual(["wordcount.py"]);
    const seen = readFileSync(join(r.runDir, "logs", "agent", "seen.txt"), "utf8");
    expect(seen.split("\n")[0]).toBe("/app");
    for (const p of ["/tests", "/solution", "/logs/verifier"]) expect(seen).toMatch(new RegExp(`${p}.*No such file`));
  }, 120_000);
});

describe("no task script on the host", () => {
  it("fixtures check and a run leave nothing outside their temporary directories", () => {
    const before = new Set(readdirSync("/"));
    const tmp = tempDir("harbor-private-tmp");
    const runs = tempDir("harbor-cli-runs");
    created.push(tmp, runs);
    const check = cli(["fixtures", "check", join(TASKS, "app-uvx-reward-txt"), join(TASKS, "copy-outside-readonly"), "--json"], { TMPDIR: tmp });
    expect(check.status, check.stderr).toBe(0);
    const ran = cli(["run", "--fixture", join(TASKS, "workdir-project-reward-json"), "--engine", "fake-oracle", "--provider", "sim", "--model", "m", "--runs-dir", runs, "--json"], { TMPDIR: tmp });
    expect(ran.status, ran.stderr).toBe(0);
    expect(readdirSync(tmp)).toEqual([]);
    expect(new Set(readdirSync("/"))).toEqual(before);
    for (const p of ["/app", "/tests", "/solution", "/logs/verifier", "/workspace/billing", "/opt/shop"]) expect(existsSync(p), p).toBe(false);
  }, 240_000);

  it("without a working sandbox, fixtures check and verify --rejudge refuse with set-up advice; --isolation none runs and says so", () => {
    const broken = { CTO_HARNESS_BWRAP: "/nonexistent/bwrap" };
    const refused = cli(["fixtures", "check", join(TASKS, "no-dockerfile-exit-code")], broken);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/refused: sandbox unavailable: bubblewrap not found[\s\S]*apt-get install bubblewrap[\s\S]*--isolation none/);
    const knowingly = cli(["fixtures", "check", "r1-string-slugify", "--isolation", "none", "--json"], broken);
    expect(knowingly.status, knowingly.stderr).toBe(0);
    expect(JSON.parse(knowingly.stdout)).toMatchObject({ ok: true, isolation: "none", fixtures: [{ isolation: "none" }] });
    expect(knowingly.stderr).toMatch(/run on the host/);
    const runs = tempDir("harbor-rejudge-runs");
    created.push(runs);
    const ran = cli(["run", "--fixture", join(TASKS, "no-dockerfile-exit-code"), "--engine", "fake-oracle", "--provider", "sim", "--model", "m", "--runs-dir", runs, "--json"]);
    expect(ran.status, ran.stderr).toBe(0);
    const runDir = join(runs, readdirSync(runs)[0]!);
    const rejudged = cli(["verify", runDir, "--rejudge", "--fixture", join(TASKS, "no-dockerfile-exit-code"), "--json"], broken);
    expect(rejudged.status).toBe(1);
    expect(JSON.parse(rejudged.stdout).problems.join("\n")).toMatch(/cannot re-judge: sandbox unavailable/);
    const ok = cli(["verify", runDir, "--rejudge", "--fixture", join(TASKS, "no-dockerfile-exit-code"), "--json"]);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, rejudged: { ok: true, isolation: "bwrap", verdict: "pass" } });
  }, 240_000);

  it("a COPY source that is a symbolic link (to the host's files) is refused when the task loads", async () => {
    const dir = join(tempDir("harbor-link"), "t");
    created.push(dir);
    cpSync(join(TASKS, "no-dockerfile-exit-code"), dir, { recursive: true });
    mkdirSync(join(dir, "environment"));
    symlinkSync("/etc/passwd", join(dir, "environment", "users"));
    writeFileSync(join(dir, "environment", "Dockerfile"), "FROM python:3\nWORKDIR /app\nCOPY users /app/users\n");
    await expect(loadFixture(dir)).rejects.toThrow(FixtureError);
    await expect(loadFixture(dir)).rejects.toThrow(/symbolic link/);
  });
});

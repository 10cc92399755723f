// The loop with the real run lifecycle: interrupts leave complete, verifiable reports.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { runOnce } from "../src/run/lifecycle.ts";
import { verifyBundle } from "../src/evidence/verify.ts";
import { runLoop } from "../src/loop/loop.ts";
import type { LoopConfig } from "../src/loop/config.ts";

const ROOT = join(import.meta.dirname, "..");
let tmp: string;
let sleeper: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "loop-run-test-"));
  // A Case agent that hangs: only an interrupt ends it.
  sleeper = join(tmp, "sleeping-case");
  await writeFile(sleeper, "#!/bin/sh\nsleep 60\n");
  await chmod(sleeper, 0o755);
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function waitFor(pred: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("timed out waiting");
}

async function agentsStarted(loopRoot: string): Promise<number> {
  let n = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name === "trace.jsonl" && (await readFile(p, "utf8")).includes('"type":"case_process_started"')) n++;
    }
  };
  await walk(loopRoot);
  return n;
}

const config: LoopConfig = {
  fixtures: ["r1-string-slugify"],
  engines: ["case"],
  attempts: 3,
  provider: "sim",
  model: "qwen3.6-35b-a3b",
  isolation: "none",
  budget: 1024,
  agent_timeout_sec: 120,
};

describe("loop interrupt (real runOnce)", () => {
  it("abort stops in-flight runs with complete interrupted reports, starts nothing new, writes the summary", async () => {
    const ac = new AbortController();
    const runsDir = join(tmp, "api");
    const done = runLoop(
      { config, settings: { concurrency: 2, model_concurrency: 2 }, runsDir, env: { ...process.env, CTO_HARNESS_CASE_BIN: sleeper }, signal: ac.signal },
      { runOnce, verifyBundle },
    );
    await waitFor(async () => (await agentsStarted(runsDir)) >= 2);
    ac.abort();
    const { summary, loopDir } = await done;
    expect(summary.interrupted).toBe(true);
    expect(summary.exit_code).toBe(3);
    const started = summary.attempts.filter((a) => a.run_id !== null);
    expect(started).toHaveLength(2);
    expect(summary.attempts.filter((a) => a.status === "not_run")).toHaveLength(1);
    for (const a of started) {
      // DESIGN §5 names, chosen by runOnce (two started in the same second get `-<n>`).
      expect(a.run_id).toMatch(new RegExp(`^\\d{8}T\\d{6}Z-r1-string-slugify-${process.pid}(-\\d+)?$`));
      expect(a.status).toBe("error");
      expect(a.failure_reason).toBe("interrupted");
      const v = await verifyBundle(join(loopDir, a.run_id!));
      expect(v.problems).toEqual([]);
      expect(v.report?.failure_reason).toBe("interrupted");
      expect(v.report?.run_id).toBe(a.run_id);
    }
    expect(existsSync(join(loopDir, "summary.json"))).toBe(true);
    expect(existsSync(join(loopDir, "summary.md"))).toBe(true);
  });

  it("SIGINT to `cto-harness loop --json` exits 3 with the summary on stdout", async () => {
    const runsDir = join(tmp, "cli");
    const child = spawn(
      join(ROOT, "bin/cto-harness"),
      ["loop", "--fixtures", "r1-string-slugify", "--engines", "case", "--attempts", "2", "--isolation", "none", "--runs-dir", runsDir, "--json"],
      { env: { ...process.env, CTO_HARNESS_CASE_BIN: sleeper }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    await waitFor(async () => (await agentsStarted(runsDir)) >= 1);
    child.kill("SIGINT");
    const code = await exited;
    expect(code).toBe(3);
    const summary = JSON.parse(stdout);
    expect(summary.schema).toBe("cto-harness/loop-summary@1");
    expect(summary.interrupted).toBe(true);
    expect(summary.attempts[0].failure_reason).toBe("interrupted");
  });
});

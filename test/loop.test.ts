import { describe, expect, it, beforeEach, afterEach } from "vitest";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { passAtK, passAtKSeries, meanSeries } from "../src/loop/passk.ts";
import { canonicalJson, configHash, differingKeys, type LoopConfig } from "../src/loop/config.ts";
import { assignRunDirs, decideResume, planAttempts, type AttemptEntry } from "../src/loop/plan.ts";
import { loopExitCode, summarise, type AttemptRecord } from "../src/loop/summary.ts";
import { renderJunit, renderMarkdown, xmlEscape } from "../src/loop/render.ts";
import { progressLine, formatDuration } from "../src/loop/progress.ts";
import { Semaphore } from "../src/core/semaphore.ts";
import { runLoop, LoopConfigMismatch, type RunOnceFn } from "../src/loop/loop.ts";
import { verifyBundle } from "../src/evidence/verify.ts";
import type { RunOptions } from "../src/run/options.ts";
import { makeReport, passReport, writeBundle } from "./data/make-bundle.ts";

// C(n,k) by multiplication, for hand-checking the estimator.
const C = (n: number, k: number): number => {
  if (k < 0 || k > n) return 0;
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
};

describe("pass@k", () => {
  it("matches hand-computed values for n=5, c=2", () => {
    // 1 - C(3,k)/C(5,k): k=1: 1-3/5; k=2: 1-3/10; k=3: 1-1/10; k=4,5: 1.
    const expected = [0.4, 0.7, 0.9, 1, 1];
    const got = passAtKSeries(5, 2, 5);
    got.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 12));
    for (let k = 1; k <= 5; k++) expect(passAtK(5, 2, k)).toBeCloseTo(1 - C(3, k) / C(5, k), 12);
  });

  it("edge cases: no passes, all passes, k > n is undefined", () => {
    expect(passAtK(10, 0, 3)).toBe(0);
    expect(passAtK(10, 10, 1)).toBe(1);
    expect(passAtK(1, 1, 1)).toBe(1);
    expect(passAtKSeries(2, 1, 4)).toEqual([0.5, 1, null, null]);
    expect(() => passAtK(3, 4, 1)).toThrow(RangeError);
  });

  it("stays numerically stable for large n where binomials overflow", () => {
    const v = passAtK(2000, 3, 500);
    // 1 - prod_{i=1998..2000} (1 - 500/i)
    const direct = 1 - (1 - 500 / 1998) * (1 - 500 / 1999) * (1 - 500 / 2000);
    expect(v).toBeCloseTo(direct, 12);
    expect(Number.isFinite(v)).toBe(true);
  });

  it("averages per-problem series, ignoring undefined entries", () => {
    expect(meanSeries([[0.5, 1], [1, null]], 2)).toEqual([0.75, 1]);
    expect(meanSeries([[null]], 1)).toEqual([null]);
  });
});

const CONFIG: LoopConfig = {
  fixtures: ["r1-string-slugify", "js-cart-rounding"],
  engines: ["fake-noop", "fake-oracle"],
  attempts: 3,
  provider: "sim",
  model: "qwen3.6-35b-a3b",
  isolation: "none",
  budget: 1024,
  agent_timeout_sec: null,
};

describe("loop config and plan", () => {
  it("hashes the canonical config independently of key order, and names differing keys", () => {
    const reordered = JSON.parse(canonicalJson({ ...CONFIG })) as LoopConfig;
    const shuffled = Object.fromEntries(Object.entries(reordered).reverse()) as unknown as LoopConfig;
    expect(configHash(shuffled)).toBe(configHash(CONFIG));
    expect(configHash(CONFIG)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(differingKeys(CONFIG, { ...CONFIG, attempts: 4, model: "x" })).toEqual(["attempts", "model"]);
  });

  it("plans attempt-major with unique attempt keys, even for same-named fixture dirs", () => {
    const plan = planAttempts(["a/fix", "b/fix"], ["e1"], 2);
    expect(plan.map((p) => p.key)).toEqual(["fix__e1__a1", "fix-2__e1__a1", "fix__e1__a2", "fix-2__e1__a2"]);
  });

  it("resume keeps the latest valid attempt, reruns invalid or interrupted ones, listing every older dir as superseded", () => {
    const fail = { runId: "20260601T000000Z-x-1", valid: true, status: "fail" as const, failureReason: "tests failed", problems: [] };
    expect(decideResume([fail])).toEqual({ action: "keep", runId: fail.runId, superseded: [] });
    const broken = { runId: "20260601T000000Z-x-1", valid: false, status: null, failureReason: null, problems: ["report.json is missing"] };
    const interrupted = { runId: "20260601T000100Z-x-1", valid: true, status: "error" as const, failureReason: "interrupted", problems: [] };
    expect(decideResume([broken, interrupted])).toEqual({
      action: "run",
      superseded: [
        { run_id: broken.runId, reason: "invalid bundle: report.json is missing" },
        { run_id: interrupted.runId, reason: "interrupted" },
      ],
    });
    expect(decideResume([broken, fail])).toEqual({ action: "keep", runId: fail.runId, superseded: [{ run_id: broken.runId, reason: "invalid bundle: report.json is missing" }] });
    expect(decideResume([])).toEqual({ action: "run", superseded: [] });
  });

  it("assigns recorded run dirs by attempts.jsonl and unrecorded ones by fixture + engine to attempts without a record, oldest first", () => {
    const plan = planAttempts(["r1", "./local/fix"], ["e1"], 2);
    const entry = (key: string, run_id: string): AttemptEntry => ({
      key, fixture: "", engine: "e1", attempt: 1, run_id, status: "fail", failure_reason: "tests failed", duration_ms: 1, finished_at: "",
    });
    const { byAttempt, unmatched } = assignRunDirs(
      plan,
      [entry("r1__e1__a1", "20260601T000000Z-r1-7"), entry("nope__e1__a9", "20260601T000000Z-zz-7")],
      [
        { runId: "20260601T000009Z-r1-7", fixtureId: "r1", engine: "e1" },
        { runId: "20260601T000005Z-fix-id-7", fixtureId: "fix-id", engine: "e1" },
        { runId: "20260601T000008Z-r1-7", fixtureId: "r1", engine: "e1" },
        { runId: "20260601T000010Z-r1-7", fixtureId: "r1", engine: "e2" },
        { runId: "20260601T000011Z-x-7", fixtureId: null, engine: null },
      ],
      { r1: "r1", "./local/fix": "fix-id" },
    );
    expect(Object.fromEntries(byAttempt)).toEqual({
      "r1__e1__a1": ["20260601T000000Z-r1-7"],
      "fix__e1__a1": ["20260601T000005Z-fix-id-7"],
      "r1__e1__a2": ["20260601T000008Z-r1-7"],
      "fix__e1__a2": [],
    });
    // Only one r1/e1 attempt lacked a record: the later leftover has no owner.
    expect(unmatched).toEqual(["20260601T000009Z-r1-7", "20260601T000010Z-r1-7", "20260601T000011Z-x-7"]);
  });
});

function rec(fixture: string, engine: string, attempt: number, status: AttemptRecord["status"], reason: string | null = null): AttemptRecord {
  return { fixture, engine, attempt, run_id: `${fixture}__${engine}__a${attempt}`, status, failure_reason: reason, duration_ms: 1500, resumed: false, superseded: [] };
}

describe("summary, junit, markdown", () => {
  const attempts: AttemptRecord[] = [
    rec("r1-string-slugify", "fake-noop", 1, "fail", "tests failed"),
    rec("r1-string-slugify", "fake-noop", 2, "fail", "tests failed"),
    rec("r1-string-slugify", "fake-noop", 3, "blocked", "provider unreachable"),
    rec("r1-string-slugify", "fake-oracle", 1, "pass"),
    rec("r1-string-slugify", "fake-oracle", 2, "fail", "tests failed"),
    rec("r1-string-slugify", "fake-oracle", 3, "pass"),
    rec("js-cart-rounding", "fake-noop", 1, "fail", "tests failed"),
    rec("js-cart-rounding", "fake-noop", 2, "error", "interrupted"),
    rec("js-cart-rounding", "fake-noop", 3, "not_run"),
    rec("js-cart-rounding", "fake-oracle", 1, "pass"),
    rec("js-cart-rounding", "fake-oracle", 2, "pass"),
    rec("js-cart-rounding", "fake-oracle", 3, "pass"),
  ];
  const s = summarise({
    loopDir: "/tmp/loop-x",
    config: CONFIG,
    configHash: configHash(CONFIG),
    settings: { concurrency: 2, model_concurrency: 1 },
    startedAt: "2026-06-01T00:00:00.000Z",
    finishedAt: "2026-06-01T00:01:00.000Z",
    interrupted: true,
    attempts,
  });

  it("counts, pass@k per pair/engine/fixture over judged attempts, exit code = worst", () => {
    expect(s.counts).toEqual({ total: 12, pass: 5, fail: 4, blocked: 1, error: 1, not_run: 1 });
    const oracleR1 = s.pass_at_k.by_pair.find((p) => p.fixture === "r1-string-slugify" && p.engine === "fake-oracle")!;
    expect(oracleR1.pass_at_k[0]).toBeCloseTo(2 / 3, 12);
    expect(oracleR1.pass_at_k[1]).toBe(1);
    const noopR1 = s.pass_at_k.by_pair.find((p) => p.fixture === "r1-string-slugify" && p.engine === "fake-noop")!;
    expect([noopR1.n_judged, noopR1.n_blocked]).toEqual([2, 1]);
    expect(noopR1.pass_at_k).toEqual([0, 0, null]);
    expect(s.pass_at_k.by_engine["fake-oracle"]![0]).toBeCloseTo((2 / 3 + 1) / 2, 12);
    expect(s.pass_at_k.by_fixture["js-cart-rounding"]![0]).toBeCloseTo((0 + 1) / 2, 12);
    expect(s.exit_code).toBe(3);
    expect(loopExitCode([{ status: "pass" }, { status: "fail" }])).toBe(1);
    expect(loopExitCode([{ status: "pass" }, { status: "blocked" }, { status: "fail" }])).toBe(2);
    expect(loopExitCode([])).toBe(0);
  });

  it("renders well-formed JUnit XML with failure/skipped/error per attempt", () => {
    const xml = renderJunit({ ...s, attempts: [...s.attempts.slice(0, 11), { ...s.attempts[11]!, failure_reason: null, run_id: `<&"'>\u0001` }] });
    assertWellFormed(xml);
    expect(xml).toMatch(/<testsuites name="cto-harness loop" tests="12" failures="4" errors="1" skipped="2">/);
    expect(xml).toContain('<failure message="tests failed" type="fail">');
    expect(xml).toContain('<skipped message="blocked: provider unreachable"/>');
    expect(xml).toContain('<error message="interrupted" type="error">');
    expect(xml).toContain('value="&lt;&amp;&quot;&apos;&gt;"');
    expect((xml.match(/<testcase /g) ?? []).length).toBe(12);
  });

  it("renders a markdown table with pass@k columns", () => {
    const md = renderMarkdown(s);
    expect(md).toContain("| fixture | engine | pass | fail | blocked | error | not run | pass@1 | pass@2 | pass@3 |");
    expect(md).toContain("| r1-string-slugify | fake-oracle | 2 | 1 | 0 | 0 | 0 | 66.7% | 100.0% | 100.0% |");
    expect(md).toContain("| r1-string-slugify | fake-noop | 0 | 2 | 1 | 0 | 0 | 0.0% | 0.0% | – |");
  });

  it("escapes XML and drops characters XML cannot hold", () => {
    expect(xmlEscape("a<b>&\"'\u0000c")).toBe("a&lt;b&gt;&amp;&quot;&apos;c");
  });
});

/** A small well-formedness check: balanced tags, quoted attributes, no bare `<` or `&`. */
function assertWellFormed(xml: string): void {
  const body = xml.replace(/^<\?xml [^?]*\?>\s*/, "");
  const stack: string[] = [];
  const re = /<[^>]*>|[^<]+/g;
  for (const m of body.matchAll(re)) {
    const tok = m[0];
    if (!tok.startsWith("<")) {
      expect(tok, "text").not.toMatch(/&(?!(amp|lt|gt|quot|apos);)/);
      continue;
    }
    const t = /^<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*(\/?)>$/.exec(tok);
    expect(t, `tag ${tok}`).not.toBeNull();
    expect(t![3], "attribute values").not.toMatch(/&(?!(amp|lt|gt|quot|apos);)/);
    if (t![1]) expect(stack.pop(), `closing ${t![2]}`).toBe(t![2]);
    else if (!t![4]) stack.push(t![2]!);
  }
  expect(stack).toEqual([]);
}

describe("progress and semaphore", () => {
  it("formats progress with elapsed and ETA", () => {
    const line = progressLine({ total: 10, done: 4, running: 2, pass: 1, fail: 2, blocked: 1, error: 0, startedAtMs: 0 }, 40_000);
    expect(line).toBe("loop 4/10 done, 2 running | pass 1 fail 2 blocked 1 error 0 | elapsed 40s ETA 1m00s");
    expect(formatDuration(3_725_000)).toBe("1h02m");
  });

  it("limits in-flight holders and releases in order; aborting a waiter rejects it", async () => {
    const sem = new Semaphore(2);
    const r1 = await sem.acquire();
    const r2 = await sem.acquire();
    let third = false;
    const p3 = sem.acquire().then((r) => ((third = true), r));
    const ac = new AbortController();
    const p4 = sem.acquire(ac.signal);
    await new Promise((r) => setTimeout(r, 10));
    expect([sem.inFlight, sem.waiting, third]).toEqual([2, 2, false]);
    ac.abort(new Error("stop"));
    await expect(p4).rejects.toThrow("stop");
    r1();
    r1(); // idempotent
    const r3 = await p3;
    expect([sem.inFlight, third]).toEqual([2, true]);
    r2();
    r3();
    expect(sem.inFlight).toBe(0);
  });
});

describe("runLoop (with a stand-in runOnce writing real bundles)", () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), "loop-test-"));
  });
  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  /**
   * Like runOnce: names its directory `<ts>-<fixture>-<pid>[-<n>]` under runsDir, created
   * exclusively. fake-oracle passes, fake-noop fails; the `crashAt` call numbers (1-based)
   * leave a directory with task.json but no report and throw (a crashed run).
   */
  const standIn = (calls: RunOptions[], crashAt = new Set<number>()): RunOnceFn => async (o) => {
    calls.push(o);
    expect(o.runId).toBeUndefined();
    const { mkdir } = await import("node:fs/promises");
    const stampNow = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
    let runDir = "";
    for (let n = 0; ; n++) {
      runDir = join(o.runsDir, `${stampNow}-${o.fixture}-${process.pid}${n ? `-${n}` : ""}`);
      try {
        await mkdir(runDir);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
    }
    const runId = runDir.split("/").pop()!;
    if (crashAt.has(calls.length)) {
      await writeFile(join(runDir, "task.json"), JSON.stringify({ fixture: { id: o.fixture }, engine: o.engine }));
      throw new Error("simulated crash before report");
    }
    const report = o.engine === "fake-oracle" ? passReport(runId, { backend: "fake-oracle" }) : makeReport({ run_id: runId, backend: "fake-noop", failure_reason: "tests failed" });
    await writeBundle(runDir, report);
    return { report, runDir };
  };
  const RUN_NAME = new RegExp(`^\\d{8}T\\d{6}Z-r1-string-slugify-${process.pid}(-\\d+)?$`);
  const config: LoopConfig = { ...CONFIG, fixtures: ["r1-string-slugify"], attempts: 2 };

  it("runs every attempt in its own dir, writes loop.json/summary.json/summary.md/junit, exit = worst", async () => {
    const calls: RunOptions[] = [];
    const { summary, loopDir } = await runLoop(
      { config, settings: { concurrency: 2, model_concurrency: 1 }, runsDir: tmp, env: {}, junitFile: join(tmp, "junit.xml") },
      { runOnce: standIn(calls), verifyBundle },
    );
    expect(loopDir).toMatch(/\/loop-\d{8}T\d{6}Z-\d+$/);
    expect(calls).toHaveLength(4);
    // Each attempt's directory has the contract name, is its report's run_id, and is recorded.
    const runIds = summary.attempts.map((a) => a.run_id!);
    expect(new Set(runIds).size).toBe(4);
    for (const a of summary.attempts) {
      expect(a.run_id).toMatch(RUN_NAME);
      expect(JSON.parse(await readFile(join(loopDir, a.run_id!, "report.json"), "utf8")).run_id).toBe(a.run_id);
    }
    const entries = (await readFile(join(loopDir, "attempts.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
    expect(entries.map((e) => `${e.key}=${e.run_id}`).sort()).toEqual(
      summary.attempts.map((a) => `r1-string-slugify__${a.engine}__a${a.attempt}=${a.run_id}`).sort(),
    );
    expect(calls.every((c) => c.runsDir === loopDir && c.provider === "sim")).toBe(true);
    expect((calls[0] as RunOptions & { modelSlots?: unknown }).modelSlots).toBeInstanceOf(Semaphore);
    const loopJson = JSON.parse(await readFile(join(loopDir, "loop.json"), "utf8"));
    expect(loopJson.config_hash).toBe(configHash(config));
    const onDisk = JSON.parse(await readFile(join(loopDir, "summary.json"), "utf8"));
    expect(onDisk.counts).toMatchObject({ pass: 2, fail: 2 });
    expect(summary.exit_code).toBe(1);
    expect(summary.pass_at_k.by_engine["fake-oracle"]).toEqual([1, 1]);
    assertWellFormed(await readFile(join(tmp, "junit.xml"), "utf8"));
    expect(await readFile(join(loopDir, "summary.md"), "utf8")).toContain("pass@2");
  });

  it("resume refuses a different configuration, naming the key", async () => {
    const { loopDir } = await runLoop({ config, settings: { concurrency: 1, model_concurrency: 1 }, runsDir: tmp, env: {} }, { runOnce: standIn([]), verifyBundle });
    const err = await runLoop(
      { config: { ...config, attempts: 3 }, settings: { concurrency: 1, model_concurrency: 1 }, runsDir: tmp, resumeDir: loopDir, env: {} },
      { runOnce: standIn([]), verifyBundle },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(LoopConfigMismatch);
    expect((err as LoopConfigMismatch).keys).toEqual(["attempts"]);
    expect((err as Error).message).toMatch(/attempts: loop has 2, now 3/);
  });

  it("resume reruns only attempts without a valid report, keeps failed ones and the broken dirs", async () => {
    // Plan order (attempt-major): noop a1, oracle a1, noop a2, oracle a2; call 4 crashes.
    const { loopDir, summary: first } = await runLoop(
      { config, settings: { concurrency: 1, model_concurrency: 1 }, runsDir: tmp, env: {} },
      { runOnce: standIn([], new Set([4])), verifyBundle },
    );
    const crashed = first.attempts.find((a) => a.engine === "fake-oracle" && a.attempt === 2)!;
    expect([crashed.status, crashed.run_id]).toEqual(["error", null]);
    const crashedDir = (await readdir(loopDir)).filter((d) => RUN_NAME.test(d) && !first.attempts.some((a) => a.run_id === d));
    expect(crashedDir).toHaveLength(1);
    // Tamper with a finished pass too: it must be rerun, its dir kept.
    const tampered = first.attempts.find((a) => a.engine === "fake-oracle" && a.attempt === 1)!.run_id!;
    await writeFile(join(loopDir, tampered, "backend/stdout.log"), "edited after the fact\n");
    const calls: RunOptions[] = [];
    const { summary } = await runLoop(
      { config, settings: { concurrency: 2, model_concurrency: 1 }, runsDir: tmp, resumeDir: loopDir, env: {} },
      { runOnce: standIn(calls), verifyBundle },
    );
    expect(calls.map((c) => c.engine)).toEqual(["fake-oracle", "fake-oracle"]);
    const dirs = await readdir(loopDir);
    for (const a of first.attempts) if (a.run_id) expect(dirs).toContain(a.run_id);
    expect(dirs).toContain(crashedDir[0]);
    const failed = summary.attempts.filter((a) => a.engine === "fake-noop");
    expect(failed.every((a) => a.resumed && a.status === "fail")).toBe(true);
    const rerun1 = summary.attempts.find((a) => a.engine === "fake-oracle" && a.attempt === 1)!;
    expect(rerun1.run_id).toMatch(RUN_NAME);
    expect(rerun1.run_id).not.toBe(tampered);
    expect(rerun1.superseded).toEqual([{ run_id: tampered, reason: expect.stringMatching(/invalid bundle: modified file: backend\/stdout\.log/) }]);
    // The crashed run had no record: it is found by its task.json and superseded.
    const rerun2 = summary.attempts.find((a) => a.engine === "fake-oracle" && a.attempt === 2)!;
    expect(rerun2.superseded).toEqual([{ run_id: crashedDir[0], reason: expect.stringMatching(/^invalid bundle: /) }]);
    expect(summary.unmatched_run_dirs).toEqual([]);
    expect(summary.exit_code).toBe(1);
    const loopJson = JSON.parse(await readFile(join(loopDir, "loop.json"), "utf8"));
    expect(loopJson.resumed_at).toHaveLength(1);
  });

  it("resume after the loop died before recording its runs: finished runs are found by their task.json and kept", async () => {
    const { loopDir, summary: first } = await runLoop(
      { config, settings: { concurrency: 2, model_concurrency: 1 }, runsDir: tmp, env: {} },
      { runOnce: standIn([]), verifyBundle },
    );
    // As if killed -9 after the runs finished but before attempts.jsonl (and summary.json) were written.
    await rm(join(loopDir, "attempts.jsonl"));
    await rm(join(loopDir, "summary.json"));
    const calls: RunOptions[] = [];
    const { summary } = await runLoop(
      { config, settings: { concurrency: 2, model_concurrency: 1 }, runsDir: tmp, resumeDir: loopDir, env: {} },
      { runOnce: standIn(calls), verifyBundle },
    );
    expect(calls).toHaveLength(0);
    expect(summary.attempts.every((a) => a.resumed)).toBe(true);
    const pairs = (s: typeof summary) => s.attempts.map((a) => `${a.engine}:${a.status}`).sort();
    expect(pairs(summary)).toEqual(pairs(first));
    expect(new Set(summary.attempts.map((a) => a.run_id))).toEqual(new Set(first.attempts.map((a) => a.run_id)));
  });

  it("an abort starts nothing new and still writes summary.json", async () => {
    const ac = new AbortController();
    const calls: RunOptions[] = [];
    const inner = standIn(calls);
    const runOnceAborting: RunOnceFn = async (o) => {
      const r = await inner(o);
      ac.abort();
      return r;
    };
    const { summary, loopDir } = await runLoop(
      { config, settings: { concurrency: 1, model_concurrency: 1 }, runsDir: tmp, env: {}, signal: ac.signal },
      { runOnce: runOnceAborting, verifyBundle },
    );
    expect(calls).toHaveLength(1);
    expect(summary.interrupted).toBe(true);
    expect(summary.counts.not_run).toBe(3);
    expect(summary.exit_code).toBe(3);
    expect(JSON.parse(await readFile(join(loopDir, "summary.json"), "utf8")).interrupted).toBe(true);
  });
});

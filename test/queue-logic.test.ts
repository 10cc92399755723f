// The queue's pure decisions: run keys, what is retried and what is a result, the backoff
// schedule, the resume diff, what a submitted bundle may contain, and the --queue refusals.
import { describe, expect, it } from "vitest";
import { runKey, makeJob, QueueJob, type RunSpec } from "../src/queue/spec.ts";
import { classifyOutcome, isProviderFailure } from "../src/queue/outcome.ts";
import { backoffMs, spreadOf } from "../src/queue/backoff.ts";
import { attemptsToEnqueue, parseTargets, planQueuedAttempts } from "../src/queue/plan.ts";
import { wireProblem, type WireFile } from "../src/queue/bundle-wire.ts";
import { checkQueueUrl } from "../src/queue/queue-url.ts";
import { placeFor, specMismatch } from "../src/queue/accept.ts";
import { formatProgress, providerCounts } from "../src/queue/progress.ts";
import type { Report } from "../src/evidence/report.ts";

const spec: RunSpec = {
  fixture_id: "r1-string-slugify",
  fixture_digest: "sha256:abc",
  variant: null,
  engine: "builtin",
  provider: "spark-1",
  model: "qwen3.6-35b-a3b",
  budget: 1024,
  agent_timeout_sec: null,
  isolation: "bwrap",
};

describe("run key", () => {
  it("is the same for the same spec and attempt, whatever the key order", () => {
    const reordered = Object.fromEntries(Object.entries(spec).reverse()) as RunSpec;
    expect(runKey(reordered, 2)).toBe(runKey(spec, 2));
    expect(runKey(spec, 1)).toMatch(/^rk-[0-9a-f]{32}$/);
  });
  it("differs by attempt and by every field that decides the result", () => {
    const keys = new Set([
      runKey(spec, 1),
      runKey(spec, 2),
      runKey({ ...spec, model: "other" }, 1),
      runKey({ ...spec, provider: "spark-2" }, 1),
      runKey({ ...spec, fixture_digest: "sha256:def" }, 1),
      runKey({ ...spec, engine: "pi" }, 1),
      runKey({ ...spec, budget: 2048 }, 1),
      runKey({ ...spec, isolation: "none" }, 1),
    ]);
    expect(keys.size).toBe(8);
  });
  it("a job carries names only and refuses anything else", () => {
    const job = makeJob("6f1c2b9e-8f3a-4a51-9b0e-3c1d2e4f5a6b", spec, 1);
    expect(QueueJob.parse(job)).toEqual(job);
    expect(JSON.stringify(job)).not.toMatch(/https?:/);
    expect(QueueJob.safeParse({ ...job, spec: { ...spec, base_url: "http://spark:8000/v1" } }).success).toBe(false);
    expect(QueueJob.safeParse({ ...job, spec: { ...spec, provider: "http://x" } }).success).toBe(false);
  });
});

describe("outcome: only infrastructure faults are retried", () => {
  const ok = { status: 200 };
  it("a judged fail, an agent timeout, a protocol failure and a blocked probe are results", () => {
    expect(classifyOutcome({ status: "fail", failure_reason: "tests failed", model_requests: [ok] }).kind).toBe("result");
    expect(classifyOutcome({ status: "fail", failure_reason: "case process timed out", model_requests: [ok] }).kind).toBe("result");
    expect(classifyOutcome({ status: "fail", failure_reason: "case agent result protocol failed", model_requests: [] }).kind).toBe("result");
    expect(classifyOutcome({ status: "blocked", failure_reason: "provider response shape unavailable", model_requests: [] }).kind).toBe("result");
    expect(classifyOutcome({ status: "pass", failure_reason: null, model_requests: [ok, { status: 500 }] }).kind).toBe("result");
  });
  it("harness errors, interruptions, a missing sandbox or endpoint on that host are worker faults", () => {
    for (const r of ["harness error", "interrupted", "sandbox unavailable", "provider local config unavailable"]) {
      expect(classifyOutcome({ status: r === "harness error" || r === "interrupted" ? "error" : "blocked", failure_reason: r, model_requests: [] })).toEqual({ kind: "worker_fault", reason: r });
    }
  });
  it("429, 5xx and refused connections are faults of the provider, not of the model", () => {
    expect(classifyOutcome({ status: "blocked", failure_reason: "provider unreachable", model_requests: [] }).kind).toBe("provider_fault");
    expect(classifyOutcome({ status: "fail", failure_reason: "tests failed", model_requests: [ok, { status: 429 }] })).toEqual({ kind: "provider_fault", reason: "model server answered 429" });
    expect(classifyOutcome({ status: "fail", failure_reason: "tests failed", model_requests: [{ status: 502, upstream_error: "ECONNREFUSED" }] })).toEqual({ kind: "provider_fault", reason: "ECONNREFUSED" });
    expect(classifyOutcome({ status: "blocked", failure_reason: "provider response shape unavailable", model_requests: [], probe_statuses: [500] })).toEqual({ kind: "provider_fault", reason: "model server answered 500 to the probe" });
    expect(classifyOutcome({ status: "blocked", failure_reason: "provider response shape unavailable", model_requests: [], probe_statuses: [200] }).kind).toBe("result");
    expect(isProviderFailure({ status: 503 })).toBe(true);
    expect(isProviderFailure({ status: 404 })).toBe(false);
    // The proxy's own refusal (agent asked for another model) is the agent's doing.
    expect(isProviderFailure({ status: 502, refused: true })).toBe(false);
  });
});

describe("backoff", () => {
  it("doubles from the base up to the cap, with a bounded spread", () => {
    const p = { baseMs: 1000, maxMs: 10_000 };
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffMs(n, p))).toEqual([0, 1000, 2000, 4000, 8000, 10_000]);
    expect(backoffMs(1, p, 0.5)).toBe(1050);
    expect(backoffMs(50, p, 0.99)).toBe(10_000);
    const s = spreadOf("worker-a");
    expect(s).toBeGreaterThanOrEqual(0);
    expect(s).toBeLessThan(1);
    expect(spreadOf("worker-a")).toBe(s);
  });
});

describe("plan and resume diff", () => {
  const fixtures = [{ id: "r1-string-slugify", digest: "d1", variant: null, label: "r1-string-slugify" }];
  const input = { loopId: "6f1c2b9e-8f3a-4a51-9b0e-3c1d2e4f5a6b", targets: parseTargets("a,b=m2", "m1"), fixtures, engines: ["builtin"], attempts: 2, budget: 1024, agentTimeoutSec: null, isolation: "bwrap" as const };
  it("targets × fixtures × engines × attempts, each with its own key", () => {
    const plan = planQueuedAttempts(input);
    expect(plan.map((p) => `${p.target.provider}/${p.target.model}#${p.attempt}`)).toEqual(["a/m1#1", "b/m2#1", "a/m1#2", "b/m2#2"]);
    expect(new Set(plan.map((p) => p.job.run_key)).size).toBe(4);
    // Recomputed by a restarted coordinator: the same keys.
    expect(planQueuedAttempts(input).map((p) => p.job.run_key)).toEqual(plan.map((p) => p.job.run_key));
  });
  it("enqueues only keys without an accepted result", () => {
    const plan = planQueuedAttempts(input);
    const left = attemptsToEnqueue(plan, new Set([plan[0]!.job.run_key, plan[3]!.job.run_key]));
    expect(left.map((a) => a.job.run_key)).toEqual([plan[1]!.job.run_key, plan[2]!.job.run_key]);
  });
  it("refuses bad provider lists", () => {
    expect(() => parseTargets("a,a", "m")).toThrow(/twice/);
    expect(() => parseTargets("http://x", "m")).toThrow(/not a provider name/);
  });
});

describe("a submitted bundle is hostile input", () => {
  const f = (path: string, kind: "file" | "symlink" = "file"): WireFile => ({ path, kind, content: Buffer.from("x") });
  it("accepts an ordinary bundle", () => {
    expect(wireProblem([f("report.json"), f("backend/stdout.log"), f("workspace/link", "symlink")])).toBeNull();
  });
  it("refuses escapes, absolute paths, duplicates and paths through a symlink", () => {
    expect(wireProblem([f("../x")])).toMatch(/leaves/);
    expect(wireProblem([f("a/../../x")])).toMatch(/leaves/);
    expect(wireProblem([f("/etc/passwd")])).toMatch(/not a relative path/);
    expect(wireProblem([f("a//b")])).toMatch(/leaves/);
    expect(wireProblem([f("a"), f("a")])).toMatch(/twice/);
    expect(wireProblem([f("ws/l", "symlink"), f("ws/l/passwd")])).toMatch(/under the symlink/);
    expect(wireProblem([{ path: "x", kind: "dir" as "file", content: Buffer.alloc(0) }])).toMatch(/unknown kind/);
  });
  it("places a run only under a plain name, never over an existing directory", () => {
    expect(placeFor("/loop", "../../etc")).toBeNull();
    expect(placeFor("/loop", "a/b")).toBeNull();
    expect(placeFor("/", "tmp")).toBeNull(); // taken
    expect(placeFor("/nonexistent-loop-dir", "20261201T000000Z-r1-1")).toEqual({ runId: "20261201T000000Z-r1-1", dir: "/nonexistent-loop-dir/20261201T000000Z-r1-1" });
  });
  it("names every field where the report is of another run than the one asked for", () => {
    const plan = planQueuedAttempts({ ...{ loopId: "6f1c2b9e-8f3a-4a51-9b0e-3c1d2e4f5a6b", targets: [{ provider: "a", model: "m1" }], fixtures: [{ id: "r1", digest: "d1", variant: null, label: "r1" }], engines: ["builtin"], attempts: 1, budget: 1024, agentTimeoutSec: null, isolation: "bwrap" } });
    const report = { fixture: { id: "r1", digest: "d2" }, backend: "fake-oracle", case_model_provider: "a", case_model: "m1" } as unknown as Report;
    expect(specMismatch(report, plan[0]!)).toEqual(["fixture digest d2 (asked d1)", "engine fake-oracle (asked builtin)"]);
  });
});

describe("--queue URL", () => {
  it("accepts PostgreSQL URLs without a password", () => {
    expect(checkQueueUrl("postgresql://harness@db.lan:5432/runs")).toBe("postgresql://harness@db.lan:5432/runs");
    expect(checkQueueUrl("postgres://harness@localhost/runs?host=/run/postgresql")).toBeTruthy();
  });
  it("refuses a password on the command line, and other schemes", () => {
    expect(() => checkQueueUrl("postgresql://harness:hunter2@db/runs")).toThrow(/PGPASSWORD/);
    expect(() => checkQueueUrl("http://db/runs")).toThrow(/postgresql:\/\//);
    expect(() => checkQueueUrl("not a url")).toThrow(/PostgreSQL URL/);
  });
});

describe("progress", () => {
  it("shows results per provider, pauses, and each worker's state", () => {
    const plan = planQueuedAttempts({ loopId: "6f1c2b9e-8f3a-4a51-9b0e-3c1d2e4f5a6b", targets: parseTargets("a,b", "m"), fixtures: [{ id: "r1", digest: "d", variant: null, label: "r1" }], engines: ["builtin"], attempts: 1, budget: 1024, agentTimeoutSec: null, isolation: "bwrap" });
    const counts = providerCounts(plan, new Set([plan[0]!.job.run_key]));
    expect(counts.get("a")).toEqual({ done: 1, total: 1 });
    const now = Date.parse("2026-12-01T00:00:10Z");
    const line = formatProgress(
      [{ provider: "a", done: 1, total: 1, pausedUntil: null }, { provider: "b", done: 0, total: 1, pausedUntil: new Date(now + 4000) }],
      [{ worker_id: "w1", provider: "a", slots: 2, host: "h", pid: 1, running: 1, done: 3, state: "running", last_seen: new Date(now - 2000) }],
      now,
    );
    expect(line).toBe("queue: 1/2 results · a 1/1 · b 0/1 (paused 4 s) | workers: w1 [a] running 1 running, 3 done, seen 2 s ago");
  });
});

// A model server that fails (5xx) pauses its provider with backoff; the run is done again once
// the pause is over, and the loop's result is the run's, not the server's failure: nothing is
// recorded as the model failing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { startTestPostgres, type TestPostgres } from "./helpers/postgres.ts";
import { tempDir } from "./helpers/run-env.ts";
import { MODEL, startSim, startWorker, writeProviderConfig, type SimProc, type WorkerProc } from "./helpers/queue-env.ts";
import { runQueuedLoop } from "../src/queue/coordinator.ts";
import { verifyBundle } from "../src/evidence/verify.ts";
import { loadFixture } from "../src/fixtures/load.ts";
import { openDb } from "../src/queue/store.ts";

let pgs: TestPostgres;
let sim: SimProc;
let worker: WorkerProc | null = null;
beforeAll(async () => {
  pgs = startTestPostgres();
  sim = await startSim("flaky", ["--fail-first", "3"]);
});
afterAll(async () => {
  await worker?.stop();
  await sim?.stop();
  pgs?.stop();
});

describe("429/5xx pause the provider instead of failing runs", () => {
  it("backs off, runs again, and records the run's own result", async () => {
    const dir = tempDir("queue-backoff");
    const { cwd, admission } = writeProviderConfig(join(dir, "cfg"), [sim]);
    worker = startWorker({ id: "wf", sim, queueUrl: pgs.url, cwd, admission, runsDir: join(dir, "w"), slots: 1 });
    const f = await loadFixture("r1-string-slugify");
    const targets = [{ provider: "flaky", model: MODEL }];
    const t0 = Date.now();
    const { summary } = await runQueuedLoop(
      {
        config: { fixtures: ["r1-string-slugify"], engines: ["builtin"], attempts: 1, provider: "flaky", model: MODEL, isolation: "bwrap", budget: 1024, agent_timeout_sec: 120, targets },
        fixtures: [{ id: f.id, digest: f.digest, variant: null, label: "r1-string-slugify" }],
        settings: { concurrency: 1, model_concurrency: 1 },
        runsDir: join(dir, "coord"),
        queueUrl: pgs.url,
        env: { PATH: process.env.PATH },
        log: () => {},
        deadlineSec: 240,
        trust: null,
      },
      { verifyBundle },
    );
    expect(summary.counts).toMatchObject({ total: 1, pass: 1 });
    expect((await sim.stats()).chat_failed_on_purpose).toBe(3);
    const db = openDb(pgs.url);
    try {
      const subs = (await db.query<{ outcome: string; verdict: string; verdict_reason: string | null }>("SELECT outcome, verdict, verdict_reason FROM cto_harness.submissions ORDER BY id")).rows;
      // Each run the failing server spoiled is kept as evidence but not counted; the last one counts.
      expect(subs.length).toBeGreaterThanOrEqual(2);
      expect(subs.slice(0, -1).every((s) => s.outcome === "provider_fault" && s.verdict === "retried" && /provider fault: model server answered 500/.test(s.verdict_reason ?? ""))).toBe(true);
      expect(subs.at(-1)).toMatchObject({ outcome: "result", verdict: "accepted" });
      const state = (await db.query<{ failures: number; last_reason: string }>("SELECT failures, last_reason FROM cto_harness.provider_state WHERE provider = 'flaky'")).rows[0]!;
      expect(state.failures).toBe(0); // reset by the run that got through
      expect(state.last_reason).toMatch(/500/);
    } finally {
      await db.end();
    }
    expect(worker.log.join("\n")).toMatch(/provider flaky paused until/);
    // At least the first pause (2 s) was waited.
    expect(Date.now() - t0).toBeGreaterThan(2000);
  }, 300_000);
});

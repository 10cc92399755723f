// The coordinator trusts nothing a worker sends: a bundle signed by a key it does not know, a
// bundle altered after signing, one whose rows try to leave the loop directory, and one that is
// of another job are all rejected with the reason, and never counted; the honest one is
// accepted. A queued loop without --trust refuses to start, and so does a URL with a password.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendFileSync, copyFileSync, existsSync, mkdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { startTestPostgres, type TestPostgres } from "./helpers/postgres.ts";
import { tempDir } from "./helpers/run-env.ts";
import { CLI, MODEL } from "./helpers/queue-env.ts";
import { runOnce } from "../src/run/lifecycle.ts";
import { verifyBundle } from "../src/evidence/verify.ts";
import { loadFixture } from "../src/fixtures/load.ts";
import { initKeyPair, loadSigningKey } from "../src/attest/index.ts";
import { runQueuedLoop } from "../src/queue/coordinator.ts";
import { loadTrust } from "../src/queue/trust.ts";
import { planQueuedAttempts } from "../src/queue/plan.ts";
import { ensureSchema, insertSubmission, openDb, recordLoop, type Db } from "../src/queue/store.ts";
import { packBundle, type WireFile } from "../src/queue/bundle-wire.ts";
import { configHash, LOOP_SCHEMA, type LoopConfig } from "../src/loop/config.ts";
import { writeJsonAtomic } from "../src/evidence/files.ts";
import { HARNESS_VERSION } from "../src/version.ts";

let pgs: TestPostgres;
let db: Db;
beforeAll(() => {
  pgs = startTestPostgres();
  db = openDb(pgs.url);
});
afterAll(async () => {
  await db?.end().catch(() => {});
  pgs?.stop();
});

async function signedRun(dir: string, keyPath: string): Promise<{ runDir: string; runId: string }> {
  const { report, runDir } = await runOnce({ fixture: "r1-string-slugify", engine: "fake-oracle", provider: "sim", model: MODEL, runsDir: dir, isolation: "bwrap", budget: 1024, env: { PATH: process.env.PATH }, signingKey: await loadSigningKey(keyPath) });
  expect(report.status).toBe("pass");
  return { runDir, runId: report.run_id };
}

describe("a queued loop accepts only what its trusted keys signed", () => {
  it("rejects an unknown signer, an altered bundle, an escaping one and one for a key it never handed out; accepts the honest one", async () => {
    const dir = tempDir("queue-trust");
    const trustDir = join(dir, "trust");
    mkdirSync(trustDir);
    initKeyPair(join(dir, "worker"));
    copyFileSync(join(dir, "worker.pub"), join(trustDir, "worker.pub"));
    initKeyPair(join(dir, "stranger"));
    const honest = await signedRun(join(dir, "w-honest"), join(dir, "worker"));
    const stranger = await signedRun(join(dir, "w-stranger"), join(dir, "stranger"));

    const fixture = await loadFixture("r1-string-slugify");
    const targets = [{ provider: "sim", model: MODEL }];
    const config: LoopConfig & { targets: typeof targets } = { fixtures: ["r1-string-slugify"], engines: ["fake-oracle"], attempts: 5, provider: "sim", model: MODEL, isolation: "bwrap", budget: 1024, agent_timeout_sec: null, targets };
    const fixtures = [{ id: fixture.id, digest: fixture.digest, variant: null, label: "r1-string-slugify" }];
    // A loop directory as the coordinator creates it, so submissions can arrive before it runs.
    const loopId = "2b1f6a0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
    const loopDir = join(dir, "loop");
    mkdirSync(loopDir);
    await writeJsonAtomic(join(loopDir, "loop.json"), { schema: LOOP_SCHEMA, harness_version: HARNESS_VERSION, created_at: new Date().toISOString(), config, config_hash: configHash(config), settings: { concurrency: 1, model_concurrency: 1 }, queue: { loop_id: loopId } });
    await ensureSchema(db);
    await recordLoop(db, loopId, config, configHash(config));
    const plan = planQueuedAttempts({ loopId, targets, fixtures, engines: ["fake-oracle"], attempts: 5, budget: 1024, agentTimeoutSec: null, isolation: "bwrap" });
    const key = (i: number) => plan[i]!.job.run_key;

    const submit = async (i: number, runId: string, files: WireFile[]) =>
      insertSubmission(db, { loop_id: loopId, run_key: key(i), job_id: `job-${i}`, try: 0, worker_id: "w", run_id: runId, status: "pass", failure_reason: null, outcome: "result", outcome_reason: null, final: true }, files);
    const honestFiles = await packBundle(honest.runDir);
    await submit(0, stranger.runId, await packBundle(stranger.runDir));
    // Altered in transit: one byte more in the patch the judge passed.
    const altered = honestFiles.map((f) => (f.path === "workspace.patch" ? { ...f, content: Buffer.concat([f.content, Buffer.from("\n")]) } : f));
    await submit(1, honest.runId, altered);
    await submit(2, honest.runId, [...honestFiles, { path: "../../escaped.txt", kind: "file", content: Buffer.from("x") }]);
    // A bundle offered for a run key this loop never handed out.
    await insertSubmission(db, { loop_id: loopId, run_key: "rk-00000000000000000000000000000000", job_id: "job-x", try: 0, worker_id: "w", run_id: "x", status: "pass", failure_reason: null, outcome: "result", outcome_reason: null, final: true }, honestFiles);
    await submit(3, honest.runId, honestFiles);

    const log: string[] = [];
    const { summary } = await runQueuedLoop(
      { config, fixtures, settings: { concurrency: 1, model_concurrency: 1 }, runsDir: dir, resumeDir: loopDir, queueUrl: pgs.url, env: { PATH: process.env.PATH }, log: (l) => log.push(l), deadlineSec: 3, trust: await loadTrust(trustDir) },
      { verifyBundle },
    );
    const rows = (await db.query<{ run_key: string; verdict: string; verdict_reason: string | null }>("SELECT run_key, verdict, verdict_reason FROM cto_harness.submissions ORDER BY id")).rows;
    expect(rows.map((r) => r.verdict)).toEqual(["rejected", "rejected", "rejected", "rejected", "accepted"]);
    expect(rows[0]!.verdict_reason).toMatch(/unknown key.*not among the 1 trusted key/);
    expect(rows[1]!.verdict_reason).toMatch(/workspace\.patch/);
    expect(rows[2]!.verdict_reason).toMatch(/refused: entry "\.\.\/\.\.\/escaped\.txt" leaves/);
    expect(rows[3]!.verdict_reason).toMatch(/not one of this loop's attempts/);
    expect(existsSync(join(dir, "escaped.txt"))).toBe(false);
    expect(log.join("\n")).toMatch(/REJECTED: submission \d+ of .* from worker w: not accepted: attestation rejected \(unknown key\)/);
    // Only the honest one counts; the rejected keys went back to the queue (no worker here: not run).
    expect(summary.counts).toMatchObject({ pass: 1, not_run: 4 });
    expect(summary.attempts[3]!.run_id).toBe(honest.runId);
    expect(summary.attempts[0]!.superseded[0]!.reason).toMatch(/unknown key/);
  }, 180_000);
});

describe("refusals before anything starts", () => {
  const cli = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", CLI, ...args], { encoding: "utf8", env: { PATH: process.env.PATH!, TMPDIR: process.env.TMPDIR!, ...env }, timeout: 60_000 });

  it("a queued loop without --trust says why and exits 64", () => {
    const r = cli(["loop", "--queue", "postgresql://h@localhost/db", "--fixtures", "r1-string-slugify", "--engines", "fake-oracle", "--runs-dir", tempDir("q-refuse")]);
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/--queue needs --trust DIR: bundles come from other machines/);
  });
  it("a password in --queue is refused, for the coordinator and the worker, and never echoed", () => {
    for (const args of [["loop", "--queue", "postgresql://h:s3cr3t-pw@localhost/db", "--trust", "/nonexistent"], ["worker", "--queue", "postgresql://h:s3cr3t-pw@localhost/db", "--provider", "sim"]]) {
      const r = cli(args);
      expect(r.status).toBe(64);
      expect(r.stderr).toMatch(/PGPASSWORD/);
      expect(r.stderr + r.stdout).not.toContain("s3cr3t-pw");
    }
  });
  it("a worker without its provider's endpoint in its environment refuses to start, naming the variable", () => {
    const r = cli(["worker", "--queue", "postgresql://h@localhost/db", "--provider", "qwen-local"]);
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/CTO_HARNESS_CASE_LOCAL_BASE_URL is not set in this worker's environment/);
  });
  it("an unsandboxed queued loop is refused: its signatures would prove nothing", () => {
    const trust = tempDir("q-trust");
    initKeyPair(join(trust, "k"));
    appendFileSync(join(trust, "k.pub"), "");
    const r = cli(["loop", "--queue", "postgresql://h@localhost/db", "--trust", trust, "--isolation", "none", "--fixtures", "r1-string-slugify", "--engines", "builtin", "--runs-dir", tempDir("q-none")]);
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/--isolation bwrap/);
  });
});

// The scale-out loop from real parts: a real PostgreSQL, three simulated model servers as
// their own processes (counting concurrent chat requests), `cto-harness worker` processes each
// holding only its own endpoint, and a coordinator process. A worker is SIGKILLed in the
// middle of a run and the coordinator is SIGKILLed and resumed; the loop still ends with
// every run exactly once, within every provider's slots, with no endpoint anywhere.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { startTestPostgres, type TestPostgres } from "./helpers/postgres.ts";
import { tempDir } from "./helpers/run-env.ts";
import { ROOT, startSim, startWorker, waitFor, writeProviderConfig, type SimProc, type WorkerProc } from "./helpers/queue-env.ts";
import { scanRunDir } from "../src/secrets/scan.ts";
import { initKeyPair, loadTrustedKeys, verifyLoopAttestation, verifySignedBundle } from "../src/attest/index.ts";

const CLI = join(ROOT, "src", "cli", "main.ts");

let pgs: TestPostgres;
let sims: SimProc[] = [];
const workers: WorkerProc[] = [];
const coordinators: ChildProcess[] = [];

beforeAll(async () => {
  pgs = startTestPostgres();
  // Paced servers, so runs last long enough to be killed in the middle of one.
  sims = await Promise.all(["p1", "p2", "p3"].map((p) => startSim(p, ["--ttft-ms", "300", "--tokens-per-sec", "400"])));
});
afterAll(async () => {
  for (const c of coordinators) if (c.exitCode === null) c.kill("SIGKILL");
  await Promise.all(workers.map((w) => w.stop()));
  await Promise.all(sims.map((s) => s.stop()));
  pgs?.stop();
});

/** `cto-harness loop --queue ...` as its own process. */
function startCoordinator(args: string[]): { proc: ChildProcess; out: Promise<string>; err: string[] } {
  const proc = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", CLI, "loop", ...args], { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH, TMPDIR: process.env.TMPDIR } });
  coordinators.push(proc);
  const err: string[] = [];
  proc.stderr!.on("data", (d: Buffer) => err.push(d.toString()));
  const out = new Promise<string>((resolve) => {
    let text = "";
    proc.stdout!.on("data", (d: Buffer) => (text += d.toString()));
    proc.on("exit", () => resolve(text));
  });
  return { proc, out, err };
}

/** A trace of a run (not its baseline) whose agent has started, under a worker's directory. */
function agentRunning(dir: string): boolean {
  const walk = (d: string): boolean => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory() && e.name !== "baseline" && e.name !== "workspace" && walk(p)) return true;
      if (e.name === "trace.jsonl" && readFileSync(p, "utf8").includes('"case_process_started"')) return true;
    }
    return false;
  };
  return existsSync(dir) && walk(dir);
}

/** Every row of every table of the queue (pg-boss's and ours) as text files, bundle bytes raw. */
async function dumpTables(url: string, out: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  let rows = 0;
  try {
    const tables = await c.query<{ s: string; t: string }>("SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_schema IN ('cto_harness','cto_boss') AND table_type = 'BASE TABLE'");
    for (const { s, t } of tables.rows) {
      const r = await c.query<{ j: string }>(`SELECT row_to_json(x)::text AS j FROM ${s}.${t} x`);
      rows += r.rows.length;
      writeFileSync(join(out, `${s}.${t}.jsonl`), r.rows.map((x) => x.j).join("\n"));
    }
    const files = await c.query<{ id: string; path: string; content: Buffer }>("SELECT submission_id AS id, path, content FROM cto_harness.bundle_files");
    files.rows.forEach((f, i) => writeFileSync(join(out, `bundle-file-${i}`), f.content));
  } finally {
    await c.end();
  }
  return rows;
}

describe("a loop over three providers with three workers", () => {
  it("survives a worker's SIGKILL and the coordinator's restart: every run exactly once, within slots, no endpoint anywhere", async () => {
    const dir = tempDir("queue-e2e");
    const { cwd, admission } = writeProviderConfig(join(dir, "cfg"), sims);
    const runs = (id: string) => join(dir, "workers", id);
    // Each worker signs with its own key; the coordinator trusts their public keys only.
    const trustDir = join(dir, "trust");
    mkdirSync(trustDir);
    mkdirSync(join(dir, "keys"));
    const keyOf = (id: string) => {
      const k = join(dir, "keys", id);
      if (!existsSync(k)) {
        initKeyPair(k);
        copyFileSync(`${k}.pub`, join(trustDir, `${id}.pub`));
      }
      return k;
    };
    const start = (id: string, sim: SimProc) => {
      const w = startWorker({ id, sim, queueUrl: pgs.url, cwd, admission, runsDir: runs(id), slots: 1, concurrency: 2, extra: ["--key", keyOf(id)] });
      workers.push(w);
      return w;
    };
    const w1 = start("w1", sims[0]!);
    start("w2", sims[1]!);
    start("w3", sims[2]!);
    const runsDir = join(dir, "coordinator");
    mkdirSync(runsDir, { recursive: true });
    const loopDir = join(runsDir, "loop-e2e");
    initKeyPair(join(dir, "keys", "coordinator"));
    const common = ["--queue", pgs.url, "--trust", trustDir, "--key", join(dir, "keys", "coordinator"), "--runs-dir", runsDir, "--queue-deadline", "400", "--json"];
    const c1 = startCoordinator([...common, "--providers", "p1,p2,p3", "--fixtures", "r1-string-slugify", "--engines", "builtin", "--attempts", "2", "--loop-dir", loopDir]);

    // w1 is killed while its agent runs; its job must come back on another worker of p1.
    await waitFor("w1's agent to be running", () => agentRunning(runs("w1")), 150_000);
    const killedKey = w1.log.find((l) => l.includes("started rk-"))!.match(/rk-[0-9a-f]{32}/)![0];
    w1.proc.kill("SIGKILL");
    start("w1b", sims[0]!);

    const db = new pg.Client({ connectionString: pgs.url });
    await db.connect();
    try {
      const accepted = async () => Number((await db.query("SELECT count(*) AS n FROM cto_harness.results").catch(() => ({ rows: [{ n: 0 }] }))).rows[0].n);
      await waitFor("two accepted results", async () => (await accepted()) >= 2, 200_000);
      c1.proc.kill("SIGKILL"); // the coordinator dies; the workers go on
      const c2 = startCoordinator([...common, "--resume", loopDir]);
      const summary = JSON.parse(await c2.out) as { counts: Record<string, number>; attempts: { run_id: string | null; status: string }[] };
      expect(c2.err.join("")).toMatch(/already accepted/);

      // Every run exactly once.
      expect(summary.counts).toMatchObject({ total: 6, pass: 6, not_run: 0 });
      const results = await db.query<{ run_key: string; worker_id: string; run_id: string }>("SELECT run_key, worker_id, run_id FROM cto_harness.results");
      expect(results.rows).toHaveLength(6);
      expect(new Set(results.rows.map((r) => r.run_key)).size).toBe(6);
      // Not re-run after the resume: one submission that counted per key.
      const counted = await db.query<{ n: string }>("SELECT count(*) AS n FROM cto_harness.submissions WHERE outcome = 'result'");
      expect(Number(counted.rows[0]!.n)).toBe(6);
      // A worker only takes work for the provider it serves.
      const serves: Record<string, string> = { w1: "p1", w1b: "p1", w2: "p2", w3: "p3" };
      const subs = await db.query<{ worker_id: string; provider: string }>("SELECT s.worker_id, j.data->'spec'->>'provider' AS provider FROM cto_harness.submissions s JOIN cto_boss.job j ON j.id::text = s.job_id");
      expect(subs.rows.length).toBeGreaterThanOrEqual(6);
      for (const r of subs.rows) expect(r.provider).toBe(serves[r.worker_id]);
      // The killed run completed on the other worker of its provider.
      expect(results.rows.find((r) => r.run_key === killedKey)!.worker_id).toBe("w1b");

      // Every accepted bundle verifies offline with its worker's public key alone; the loop statement with the coordinator's.
      for (const r of results.rows) {
        const v = await verifySignedBundle(join(loopDir, r.run_id), await loadTrustedKeys(join(dir, "keys", `${r.worker_id}.pub`)), { secrets: sims.map((s) => s.url) });
        expect(v.problems).toEqual([]);
        expect(v.ok).toBe(true);
      }
      const loopCheck = await verifyLoopAttestation(loopDir, await loadTrustedKeys(join(dir, "keys", "coordinator.pub")));
      expect(loopCheck.ok).toBe(true);

      // No provider ever had more requests in flight than its slots.
      for (const s of sims) {
        const st = await s.stats();
        expect(st.chat_total).toBeGreaterThan(0);
        expect(st.chat_peak).toBe(1);
      }

      // No endpoint value in any table, log or bundle.
      const dump = join(dir, "dump");
      mkdirSync(dump);
      expect(await dumpTables(pgs.url, dump)).toBeGreaterThan(0);
      writeFileSync(join(dump, "worker-logs.txt"), workers.map((w) => w.log.join("\n")).join("\n"));
      writeFileSync(join(dump, "coordinator-logs.txt"), c1.err.join("") + c2.err.join(""));
      const secrets = sims.map((s) => s.url);
      for (const d of [dump, loopDir, join(dir, "workers")]) {
        const scan = await scanRunDir(d, secrets);
        expect(scan.findings).toEqual([]);
      }
      for (const f of readdirSync(dump)) for (const s of sims) expect(readFileSync(join(dump, f)).includes(s.url.replace(/\/v1$/, ""))).toBe(false);

      // w1 comes back under its own id: it ends what its previous process left and removes its run directory.
      const back = start("w1", sims[0]!);
      await waitFor("w1 to clean up", () => back.log.some((l) => /cleaned up after the previous process: [12] unfinished run/.test(l)), 60_000);
      // Every worker checks the queue's tables against its own endpoint when it starts.
      await waitFor("w1's leak check", () => back.log.some((l) => /leak check of the queue's tables against this worker's endpoint: clean \(\d+ rows/.test(l)), 60_000);
      expect(readdirSync(join(runs("w1"), "worker-w1", "runs"))).toEqual([]);
      // Workers keep no finished run: the bundles live in the database and the loop directory.
      expect(readdirSync(join(runs("w2"), "worker-w2", "runs"))).toEqual([]);
    } finally {
      await db.end();
    }
  }, 420_000);
});

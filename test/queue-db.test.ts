// The queue's guarantees that live in a real PostgreSQL: idempotent enqueueing, exactly one
// accepted result per run key, provider slots shared by workers on separate connections
// (and given back when a worker's connection dies), and a bundle's round trip.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import type { PgBoss } from "pg-boss";
import { startTestPostgres, type TestPostgres } from "./helpers/postgres.ts";
import { tempDir } from "./helpers/run-env.ts";
import { startBoss, ensureRunQueue } from "../src/queue/boss.ts";
import { makeJob, queueName, singletonKey } from "../src/queue/spec.ts";
import { acceptResult, acceptedResults, ensureSchema, insertSubmission, openDb, pendingSubmissions, recordProviderFault, providerPausedUntil, recordProviderSuccess, type Db } from "../src/queue/store.ts";
import { ProviderSlots } from "../src/queue/slots.ts";
import { packBundle, unpackBundle } from "../src/queue/bundle-wire.ts";
import { checkTablesForSecrets } from "../src/queue/leak-check.ts";

let pgs: TestPostgres;
let db: Db;
let boss: PgBoss;
const LOOP = "6f1c2b9e-8f3a-4a51-9b0e-3c1d2e4f5a6b";
const spec = { fixture_id: "r1-string-slugify", fixture_digest: "d", variant: null, engine: "builtin", provider: "p1", model: "m", budget: 1024, agent_timeout_sec: null, isolation: "bwrap" as const };

beforeAll(async () => {
  pgs = startTestPostgres();
  db = openDb(pgs.url);
  await ensureSchema(db);
  await ensureSchema(db); // twice: idempotent
  boss = await startBoss(pgs.url);
  await ensureRunQueue(boss, "p1");
});
afterAll(async () => {
  await boss?.stop({ graceful: false }).catch(() => {});
  await db?.end().catch(() => {});
  pgs?.stop();
});

describe("enqueueing", () => {
  it("is idempotent per loop and run key while the job is queued or running", async () => {
    const job = makeJob(LOOP, spec, 1);
    const q = queueName("p1");
    const first = await boss.send(q, job, { singletonKey: singletonKey(LOOP, job.run_key) });
    const again = await boss.send(q, job, { singletonKey: singletonKey(LOOP, job.run_key) });
    expect(first).toBeTruthy();
    expect(again).toBeNull();
    const [fetched] = await boss.fetch(q, { includeMetadata: true });
    expect(fetched!.id).toBe(first);
    expect(await boss.send(q, job, { singletonKey: singletonKey(LOOP, job.run_key) })).toBeNull(); // active: still refused
    await boss.complete(q, fetched!);
    // Finished without an accepted result (a rejected bundle): the coordinator may enqueue it again.
    expect(await boss.send(q, job, { singletonKey: singletonKey(LOOP, job.run_key) })).toBeTruthy();
    // Another attempt is another key.
    expect(await boss.send(q, makeJob(LOOP, spec, 2), { singletonKey: singletonKey(LOOP, makeJob(LOOP, spec, 2).run_key) })).toBeTruthy();
    await boss.deleteAllJobs(q);
  });
});

describe("results", () => {
  it("accepts exactly one result per run key; later submissions are duplicates", async () => {
    const key = makeJob(LOOP, spec, 3).run_key;
    const base = { loop_id: LOOP, run_key: key, try: 0, run_id: "r", status: "pass", failure_reason: null, outcome: "result", outcome_reason: null, final: true };
    await insertSubmission(db, { ...base, job_id: "j1", worker_id: "w1" }, [{ path: "report.json", kind: "file", content: Buffer.from("{}") }]);
    await insertSubmission(db, { ...base, job_id: "j2", worker_id: "w2", status: "fail" }, []);
    const pending = await pendingSubmissions(db, LOOP);
    const verdicts = await Promise.all(pending.map((s) => acceptResult(db, s, s.run_id, `/x/${s.id}`)));
    expect(verdicts.sort()).toEqual(["accepted", "duplicate"]);
    const results = (await acceptedResults(db, LOOP)).filter((r) => r.run_key === key);
    expect(results).toHaveLength(1);
    expect(await pendingSubmissions(db, LOOP)).toHaveLength(0);
  });

  it("a provider fault pauses the provider; a success ends the pause", async () => {
    expect(await providerPausedUntil(db, "p9")).toBeNull();
    const r = await recordProviderFault(db, "p9", "model server answered 429", (n) => n * 60_000);
    expect(r.failures).toBe(1);
    expect((await providerPausedUntil(db, "p9"))!.getTime()).toBeGreaterThan(Date.now() + 50_000);
    expect((await recordProviderFault(db, "p9", "again", (n) => n * 60_000)).failures).toBe(2);
    await recordProviderSuccess(db, "p9");
    expect(await providerPausedUntil(db, "p9")).toBeNull();
  });
});

describe("provider slots across workers", () => {
  async function client(): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: pgs.url });
    c.on("error", () => {});
    await c.connect();
    return c;
  }

  it("never more requests in flight than the provider's slots, whichever worker holds them", async () => {
    const [a, b] = [await client(), await client()];
    const slotsA = new ProviderSlots(a, "p-shared", 2);
    const slotsB = new ProviderSlots(b, "p-shared", 2);
    let inFlight = 0;
    let peak = 0;
    const request = async (s: ProviderSlots) => {
      const release = await s.acquire();
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 40));
      inFlight--;
      release();
    };
    await Promise.all(Array.from({ length: 12 }, (_, i) => request(i % 2 ? slotsA : slotsB)));
    expect(peak).toBe(2);
    await a.end();
    await b.end();
  });

  it("a worker that dies gives its slots back with its connection", async () => {
    const [a, b] = [await client(), await client()];
    const slotsA = new ProviderSlots(a, "p-dies", 1);
    const slotsB = new ProviderSlots(b, "p-dies", 1);
    await slotsA.acquire();
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 300);
    await expect(slotsB.acquire(ctl.signal)).rejects.toBeDefined(); // held by A
    clearTimeout(timer);
    const pid = (a as unknown as { processID: number }).processID;
    await db.query("SELECT pg_terminate_backend($1)", [pid]); // A's machine is gone
    const t0 = Date.now();
    const release = await slotsB.acquire(AbortSignal.timeout(5000));
    expect(Date.now() - t0).toBeLessThan(5000);
    release();
    await b.end();
    await a.end().catch(() => {});
  });
});

describe("a bundle through the database", () => {
  it("arrives byte for byte, symlinks as symlinks, and never over an existing directory", async () => {
    const dir = tempDir("wire");
    const src = join(dir, "run");
    mkdirSync(join(src, "backend"), { recursive: true });
    writeFileSync(join(src, "report.json"), '{"a":1}');
    writeFileSync(join(src, "backend", "bin.dat"), Buffer.from([0, 1, 2, 255]));
    writeFileSync(join(src, "odd\\name\x01.txt"), "x");
    symlinkSync("/etc/passwd", join(src, "backend", "link"));
    const files = await packBundle(src);
    const dest = join(dir, "arrived");
    await unpackBundle(dest, files);
    expect(readFileSync(join(dest, "backend", "bin.dat"))).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(readlinkSync(join(dest, "backend", "link"))).toBe("/etc/passwd");
    expect(readFileSync(join(dest, "odd\\name\x01.txt"), "utf8")).toBe("x");
    await expect(unpackBundle(dest, files)).rejects.toThrow(/EEXIST/);
    const evil = join(dir, "evil");
    await expect(unpackBundle(evil, [{ path: "../escaped", kind: "file", content: Buffer.from("x") }])).rejects.toThrow(/refused/);
    expect(existsSync(join(dir, "escaped"))).toBe(false);
    expect(existsSync(evil)).toBe(false);
  });
});

describe("the leak scan covers the queue's tables", () => {
  it("finds an endpoint that got into any table, in any encoding the scanner knows, and names the table only", async () => {
    const secret = "http://spark-7.lan:8000/v1";
    const clean = await checkTablesForSecrets(db, [secret]);
    expect(clean.findings).toEqual([]);
    expect(clean.tables).toBeGreaterThanOrEqual(6);
    expect(clean.rows).toBeGreaterThan(0);
    await recordProviderFault(db, "leaky", `refused by ${encodeURIComponent(secret)}`, () => 1000);
    const dirty = await checkTablesForSecrets(db, [secret]);
    expect(dirty.findings.length).toBeGreaterThan(0);
    expect(dirty.findings.every((f) => f.table === "cto_harness.provider_state")).toBe(true);
    expect(JSON.stringify(dirty)).not.toContain("spark-7");
    await db.query("DELETE FROM cto_harness.provider_state WHERE provider = 'leaky'");
  });
});

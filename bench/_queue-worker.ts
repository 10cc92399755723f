// A worker process for bench/queue.ts: the real runWorker with the benchmark's stand-in run
// (bench/queue.ts explains it). argv[2]: JSON {url, provider, workerId, stateDir, digest, mode}.
import { runWorker } from "../src/queue/worker.ts";
import { standIn, oneModelRequest, RUN_MS } from "./queue.ts";

const a = JSON.parse(process.argv[2]!) as { url: string; provider: string; workerId: string; stateDir: string; digest: string; mode: "sleep" | "model" };
const stop = new AbortController();
process.on("SIGTERM", () => stop.abort());
const work = a.mode === "sleep" ? () => new Promise<void>((r) => setTimeout(r, RUN_MS)) : oneModelRequest;
await runWorker(
  { queueUrl: a.url, provider: a.provider, slots: 1, concurrency: 1, workerId: a.workerId, stateDir: a.stateDir, env: process.env, signal: stop.signal, log: () => {} },
  { runOnce: standIn(a.digest, work) },
);

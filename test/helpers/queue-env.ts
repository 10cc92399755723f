// A whole scale-out set-up on one machine, from real parts: a private PostgreSQL, simulated
// model servers as separate `cto-harness sim` processes (each counting its concurrent chat
// requests), a directory holding cto-harness.config.yaml (providers by the NAMES of their
// variables) and an admission file, and `cto-harness worker` child processes, each given
// only its own provider's endpoint in its environment.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { SimStats } from "../../src/sim/server.ts";

export const ROOT = join(import.meta.dirname, "..", "..");
export const CLI = join(ROOT, "src", "cli", "main.ts");
export const MODEL = "qwen3.6-35b-a3b";

export function nodeArgs(...args: string[]): string[] {
  return ["--disable-warning=ExperimentalWarning", CLI, ...args];
}

export interface SimProc {
  provider: string;
  urlVar: string;
  url: string;
  proc: ChildProcess;
  stats(): Promise<SimStats>;
  stop(): Promise<void>;
}

function exited(p: ChildProcess): Promise<void> {
  return p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise((r) => p.once("exit", () => r()));
}

/** `cto-harness sim --stats` as its own process; resolves once it printed its URL. */
export async function startSim(provider: string, extra: string[] = []): Promise<SimProc> {
  const proc = spawn(process.execPath, nodeArgs("sim", "--stats", ...extra), { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH } });
  proc.stderr!.resume();
  const url = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout! });
    rl.once("line", (l) => resolve(l.trim()));
    proc.once("exit", (c) => reject(new Error(`sim exited ${c}`)));
  });
  const urlVar = `Q_${provider.replace(/[^A-Za-z0-9]/g, "_").toUpperCase()}_URL`;
  return {
    provider,
    urlVar,
    url,
    proc,
    async stats() {
      const r = await fetch(url.replace(/\/v1$/, "") + "/sim/stats");
      return (await r.json()) as SimStats;
    },
    async stop() {
      proc.kill("SIGTERM");
      await exited(proc);
    },
  };
}

/** A working directory with the providers declared by variable names, and an admission file. */
export function writeProviderConfig(dir: string, sims: SimProc[]): { cwd: string; admission: string } {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "cto-harness.config.yaml"), `providers:\n${sims.map((s) => `  ${s.provider}:\n    url_env: ${s.urlVar}\n`).join("")}`);
  const admission = join(dir, "admission.yaml");
  writeFileSync(admission, `admitted:\n${sims.map((s) => `  - {provider: ${s.provider}, model: ${MODEL}}\n`).join("")}`);
  return { cwd: dir, admission };
}

export interface WorkerProc {
  id: string;
  proc: ChildProcess;
  log: string[];
  stop(): Promise<void>;
}

export function startWorker(o: { id: string; sim: SimProc; queueUrl: string; cwd: string; admission: string; runsDir: string; slots?: number; concurrency?: number; extra?: string[] }): WorkerProc {
  const args = ["worker", "--queue", o.queueUrl, "--provider", o.sim.provider, "--slots", String(o.slots ?? 1), "--worker-id", o.id, "--runs-dir", o.runsDir];
  if (o.concurrency) args.push("--concurrency", String(o.concurrency));
  const proc = spawn(process.execPath, nodeArgs(...args, ...(o.extra ?? [])), {
    cwd: o.cwd,
    stdio: ["ignore", "ignore", "pipe"],
    // Only this worker's own endpoint: the queue never tells it where the server is.
    env: { PATH: process.env.PATH, TMPDIR: process.env.TMPDIR, [o.sim.urlVar]: o.sim.url, CTO_HARNESS_CASE_MODEL_ADMISSION_FILE: o.admission },
  });
  const log: string[] = [];
  createInterface({ input: proc.stderr! }).on("line", (l) => log.push(l));
  return {
    id: o.id,
    proc,
    log,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      await exited(proc);
    },
  };
}

export async function waitFor(what: string, pred: () => Promise<boolean> | boolean, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

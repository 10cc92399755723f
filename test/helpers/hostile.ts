// Helpers for the fault-injection suite (test/fault-injection.test.ts): hostile agents run
// through the real lifecycle (runOnce, case engine, bwrap), a simulator behind a canary
// endpoint URL, host-side probes (loopback listener, /proc survivors, directory snapshots)
// and the assertions every hostile run must meet.
import { createHash, randomBytes } from "node:crypto";
import { copyFileSync, existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { expect } from "vitest";
import { runOnce, type RunResult } from "../../src/run/lifecycle.ts";
import type { RunOptions } from "../../src/run/options.ts";
import { verifyBundle } from "../../src/evidence/verify.ts";
import { startSimulator, type SimOptions, type SimServer } from "../../src/sim/server.ts";
import { BUILTIN_FIXTURES_DIR } from "../../src/fixtures/load.ts";
import { admissionFile, agentScript, baseEnv, findCanary, tempDir } from "./run-env.ts";

export const MODEL = "qwen3.6-35b-a3b";
export const FIXTURE = "r1-string-slugify";
/** The reference fix of the fixture; hostile agents copy it (from their own, read-only bound dir) so a run can pass. */
export const FIXED_SLUGIFY = join(BUILTIN_FIXTURES_DIR, FIXTURE, "solution", "src", "slugify.js");

/** A simulator reached through a URL that carries userinfo and a token query, plus a canary API key. */
export interface CanaryEndpoint {
  sim: SimServer;
  /** `http://canaryuser:<password>@127.0.0.1:<port>/v1?token=<token>` */
  url: string;
  apiKey: string;
  /** The whole secret values as the harness holds them (what scanRunDir is given). */
  secrets: string[];
  /** Distinctive parts (≥ 8 chars) searched raw and encoded with findCanary. */
  fragments: string[];
  /** Environment that points provider `qwen-local` at the simulator. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startCanaryEndpoint(admissionDir: string, simOpts: Partial<SimOptions> = {}): Promise<CanaryEndpoint> {
  const tag = randomBytes(4).toString("hex");
  const sim = await startSimulator({ flavour: "vllm-0.16", scenario: "solve", models: [MODEL], ...simOpts });
  const password = `canary-pass-${tag}`;
  const token = `tok-canary-${tag}`;
  const apiKey = `sk-canary-key-${tag}`;
  const url = `http://canaryuser:${password}@127.0.0.1:${sim.port}/v1?token=${token}`;
  return {
    sim,
    url,
    apiKey,
    secrets: [url, apiKey],
    fragments: [password, token, `canaryuser:${password}`, apiKey, url],
    env: {
      CTO_HARNESS_CASE_LOCAL_BASE_URL: url,
      CTO_HARNESS_CASE_LOCAL_API_KEY: apiKey,
      CTO_HARNESS_CASE_MODEL_ADMISSION_FILE: admissionFile(admissionDir, [`qwen-local/${MODEL}`]),
    },
    close: () => sim.close(),
  };
}

export interface HostileAgent {
  /** Directory holding the agent (bound read-only into the sandbox) and the reference fix. */
  dir: string;
  bin: string;
  /** Path of the reference fix as the agent sees it (inside its own dir). */
  fix: string;
}

/** Writes a hostile agent script (sh or node by shebang) next to a copy of the fixture's fix. */
export function hostileAgent(name: string, body: string): HostileAgent {
  const dir = tempDir(`hostile-${name}`);
  const fix = join(dir, "slugify.fixed.js");
  copyFileSync(FIXED_SLUGIFY, fix);
  return { dir, bin: agentScript(dir, name, body), fix };
}

/** Node snippet: apply the fix and report success by the case-result/1 protocol. */
/** A shell line with which a shell-script agent asks its model once, as any real agent would. */
export const ASK_MODEL_SH = `node -e 'fetch(process.env.OPENAI_BASE_URL + "/chat/completions", { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer " + process.env.OPENAI_API_KEY }, body: JSON.stringify({ model: process.env.OPENAI_MODEL, messages: [{ role: "user", content: "fix slugify" }], max_tokens: 64 }) }).then((r) => r.text())'`;

export function finishWell(agent: HostileAgent, summary = "done"): string {
  // Like any real agent it asks its model (the admitted one, through the run's proxy) first:
  // a run whose model answered nothing is not evidence about the model.
  return `
{
  const fs = await import("node:fs");
  const answer = await fetch(process.env.OPENAI_BASE_URL + "/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer " + process.env.OPENAI_API_KEY },
    body: JSON.stringify({ model: process.env.OPENAI_MODEL, messages: [{ role: "user", content: "fix slugify" }], max_tokens: 64 }),
  }).then((r) => r.text(), (e) => String(e));
  void answer;
  fs.copyFileSync(${JSON.stringify(agent.fix)}, "src/slugify.js");
  fs.writeFileSync(process.env.CTO_HARNESS_RESULT_FILE, JSON.stringify({ protocol: "case-result/1", status: "completed", summary: ${JSON.stringify(summary)} }));
}
`;
}

export interface HostileRunOptions {
  agent: HostileAgent;
  /** `sim` (built-in simulator) or `qwen-local` pointed at a canary endpoint. */
  endpoint?: CanaryEndpoint;
  env?: Record<string, string>;
  agentTimeoutSec?: number;
  fixture?: string;
  runsDir?: string;
  sim?: RunOptions["sim"];
}

/** One run of a hostile agent through the real lifecycle, under bubblewrap. */
export async function runHostile(o: HostileRunOptions): Promise<RunResult & { runsDir: string }> {
  const runsDir = o.runsDir ?? tempDir("hostile-runs");
  const result = await runOnce({
    fixture: o.fixture ?? FIXTURE,
    engine: "case",
    provider: o.endpoint ? "qwen-local" : "sim",
    model: MODEL,
    isolation: "bwrap",
    budget: 1024,
    runsDir,
    agentTimeoutSec: o.agentTimeoutSec ?? 20,
    sim: o.sim,
    env: baseEnv({ CTO_HARNESS_CASE_BIN: o.agent.bin, ...(o.endpoint?.env ?? {}), ...(o.env ?? {}) }),
  });
  return { ...result, runsDir };
}

/** Host pids whose command line contains `needle` (never this process). */
export function hostPidsWithCmdline(needle: string): number[] {
  const out: number[] = [];
  const want = Buffer.from(needle);
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`);
      if (cmd.includes(want) && !isZombie(Number(e))) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/** Waits up to `ms` for no host process to carry any of `needles` in its argv; returns the survivors. */
export async function survivors(needles: string[], ms = 1500): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const alive = needles.flatMap(hostPidsWithCmdline);
    if (alive.length === 0 || Date.now() > deadline) return alive;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A loopback TCP server on the host that counts connections (an agent must never reach it). */
export interface Listener {
  port: number;
  connections: number;
  bytes: Buffer[];
  close(): Promise<void>;
}

export async function startListener(): Promise<Listener> {
  const sockets = new Set<Socket>();
  const l: Listener = { port: 0, connections: 0, bytes: [], close: async () => {} };
  const server: Server = createServer((s) => {
    l.connections++;
    sockets.add(s);
    s.on("data", (d: Buffer) => l.bytes.push(d));
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  l.port = (server.address() as { port: number }).port;
  l.close = () =>
    new Promise((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  return l;
}

/** sha256 of every entry under `dir` (symlinks by target, without following), for "unchanged" checks. */
export function snapshotDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(full);
      if (st.isDirectory()) {
        out[`${r}/`] = "dir";
        walk(full, r);
      } else if (st.isFile()) out[r] = createHash("sha256").update(readFileSync(full)).digest("hex");
      else out[r] = `other:${st.mode}`;
    }
  };
  if (existsSync(dir)) walk(dir, "");
  return out;
}

/**
 * What every hostile run must leave: report.json and manifest.json, a bundle that verifies,
 * no canary (raw or encoded) by the test's own search or by the product's scanner, and no
 * process of the run alive on the host.
 */
export async function expectCleanBundle(
  runDir: string,
  opts: { fragments?: string[]; secrets?: string[]; processNeedles?: string[] } = {},
): Promise<void> {
  expect(existsSync(join(runDir, "report.json")), "report.json").toBe(true);
  expect(existsSync(join(runDir, "manifest.json")), "manifest.json").toBe(true);
  // With `secrets`, verify also runs the product's scanner (scanRunDir) over the bundle: a finding is a problem.
  const v = await verifyBundle(runDir, { secrets: opts.secrets });
  expect(v.problems).toEqual([]);
  expect(v.leak_findings).toEqual([]);
  expect(v.ok).toBe(true);
  if (opts.fragments?.length) expect(findCanary(runDir, opts.fragments)).toEqual([]);
  expect(await survivors([runDir, ...(opts.processNeedles ?? [])])).toEqual([]);
}

// Finding and ending every process of one run outside bwrap (see docs/isolation.md):
//  - the child leads its own process group (detached), so a group kill reaches the usual case;
//  - /proc/<pid>/task/*/children is walked every 100 ms from the child, remembering every
//    descendant ever seen (with its start time, so a reused pid is never hit);
//  - every process of the run carries CTO_HARNESS_RUN_TOKEN=<random> in its environment,
//    and /proc/*/environ is searched for it at kill time (catches what polling missed,
//    as long as the process kept its inherited environment).
// Apart from process.ts because this is the /proc side, testable and readable on its own.
import { readFileSync, readdirSync } from "node:fs";
import { childPids } from "./proc-tree.ts";

/** Environment variable carrying the per-run marker that identifies the run's processes. */
export const RUN_TOKEN_VAR = "CTO_HARNESS_RUN_TOKEN";
const POLL_MS = 100;

/** Sends `sig` to the whole process group led by `pid` (children were spawned detached). */
export function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    /* already gone */
  }
}

/** Start time (clock ticks since boot) of a process, or null if it is gone. Distinguishes a reused pid. */
export function procStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // Field 2 (comm) may contain spaces and parentheses: count fields after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return rest[19] ?? null; // field 22 overall
  } catch {
    return null;
  }
}

/** Pids whose environment holds `NAME=value` (other users' processes are unreadable and skipped). */
export function pidsWithEnv(name: string, value: string): number[] {
  const needle = Buffer.from(`${name}=${value}`);
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return out;
  }
  for (const e of entries) {
    const c = e.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${pid}/environ`);
      if (env.indexOf(needle) !== -1) out.push(pid);
    } catch {
      /* gone or not ours */
    }
  }
  return out;
}

/** Every process of one run: descendants seen by polling plus those carrying the run token. */
export class RunProcesses {
  #root: number;
  #token: string;
  #known = new Map<number, string>(); // pid -> start time
  #timer: NodeJS.Timeout;
  constructor(root: number, token: string) {
    this.#root = root;
    this.#token = token;
    this.poll();
    this.#timer = setInterval(() => this.poll(), POLL_MS);
    this.#timer.unref();
  }
  /** Walks the tree from the root and from every still-living process seen before (their children stay reachable after reparenting). */
  poll(): void {
    const stack = [this.#root];
    for (const [pid, start] of this.#known) if (procStartTime(pid) === start) stack.push(pid);
    const visited = new Set<number>();
    while (stack.length) {
      const pid = stack.pop()!;
      if (visited.has(pid)) continue;
      visited.add(pid);
      for (const c of childPids(pid)) {
        if (!this.#known.has(c)) {
          const st = procStartTime(c);
          if (st !== null) this.#known.set(c, st);
        }
        stack.push(c);
      }
    }
  }
  /** Signals every living process of the run (never the harness itself); returns how many were signalled. */
  signalAll(sig: NodeJS.Signals): number {
    this.poll();
    for (const pid of pidsWithEnv(RUN_TOKEN_VAR, this.#token)) {
      if (!this.#known.has(pid)) {
        const st = procStartTime(pid);
        if (st !== null) this.#known.set(pid, st);
      }
    }
    let n = 0;
    for (const [pid, start] of this.#known) {
      if (pid === process.pid || procStartTime(pid) !== start) continue;
      try {
        process.kill(pid, sig);
        n++;
      } catch {
        /* gone */
      }
    }
    return n;
  }
  stop(): void {
    clearInterval(this.#timer);
  }
}

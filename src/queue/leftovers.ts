// What a worker killed mid-run leaves behind on its machine: agent processes that outlived
// it (those in bubblewrap die with it: --die-with-parent; unsandboxed ones may not) and the
// run's directory with its workspace. A worker records each run it starts in its state
// directory and, when it comes back under the same id, ends those processes and removes
// those directories before taking work. The run itself was retried on another worker.
import { readdir, readFile, readlink, rm, writeFile, mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";

export interface InflightRecord {
  job_id: string;
  pid: number;
  started_at: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function recordInflight(stateDir: string, rec: InflightRecord): Promise<string> {
  const dir = join(stateDir, "inflight");
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${rec.job_id}.json`);
  await writeFile(file, JSON.stringify(rec) + "\n");
  return file;
}

/** Processes whose working directory is inside `root` (the leftovers of an unsandboxed agent). */
async function processesUnder(root: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const cwd = await readlink(`/proc/${name}/cwd`).catch(() => null);
    if (cwd && (cwd === root || cwd.startsWith(`${root}/`))) out.push(Number(name));
  }
  return out;
}

export interface CleanupReport {
  runs: number;
  killed: number;
  removed: string[];
  /** A previous process of this worker still running: the caller refuses to start. */
  stillRunning: number | null;
}

/**
 * Every run directory still under `<state>/runs/` when a worker starts is a leftover: a
 * finished run's directory is removed once its bundle is in the database.
 */
export async function cleanLeftovers(stateDir: string): Promise<CleanupReport> {
  const report: CleanupReport = { runs: 0, killed: 0, removed: [], stillRunning: null };
  const inflightDir = join(stateDir, "inflight");
  const records = await readdir(inflightDir).catch(() => [] as string[]);
  for (const name of records) {
    const rec = (await readFile(join(inflightDir, name), "utf8").then((t) => JSON.parse(t) as InflightRecord).catch(() => null));
    if (rec && rec.pid !== process.pid && isAlive(rec.pid)) {
      const cmd = await readFile(`/proc/${rec.pid}/cmdline`, "utf8").catch(() => "");
      if (cmd.includes("worker")) {
        report.stillRunning = rec.pid;
        return report;
      }
    }
  }
  const runsDir = join(stateDir, "runs");
  for (const name of await readdir(runsDir).catch(() => [] as string[])) {
    const root = resolve(runsDir, name);
    report.runs++;
    for (const pid of await processesUnder(root)) {
      try {
        process.kill(pid, "SIGKILL");
        report.killed++;
      } catch {
        /* gone meanwhile */
      }
    }
    await rm(root, { recursive: true, force: true });
    report.removed.push(root);
  }
  for (const name of records) await rm(join(inflightDir, name), { force: true });
  return report;
}

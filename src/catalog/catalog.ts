// What is in a runs directory, read-only: run bundles (`<runs-dir>/<run_id>/`), loop
// directories (`<runs-dir>/loop-*/`, holding loop.json and one bundle per attempt) and the
// runs inside them. Every report is schema-checked; a bundle whose report does not parse is
// listed with its problem rather than dropped, so tampering is visible, never silent.
import { lstat } from "node:fs/promises";
import { basename, join } from "node:path";
import { Report } from "../evidence/report.ts";
import { listDirsInside, readJsonInside, readJsonlInside, readTextInside, resolveInside } from "./safe-read.ts";

export interface RunEntry {
  /** Path components under the runs dir: `[run_id]`, `[loop_id, run_id]`, plus `baseline` for a baseline. */
  address: string[];
  dir_name: string;
  loop_id: string | null;
  report: Report | null;
  /** Why the report could not be read (missing, not JSON, not cto-harness/report@1). */
  problem: string | null;
  /** task.json but no report.json yet: a run being written (or killed before its end). */
  in_progress: boolean;
}

export interface LoopEntry {
  loop_id: string;
  /** loop.json as found (not trusted: only displayed and used to lay out the table). */
  loop_file: Record<string, unknown> | null;
  created_at: string | null;
  /** summary.md is written only when the loop ends: without it the loop is running (or was killed). */
  finished: boolean;
  runs: RunEntry[];
}

export interface Catalog {
  runs: RunEntry[];
  loops: LoopEntry[];
}

export async function readRunEntry(root: string, address: string[]): Promise<RunEntry> {
  const entry: RunEntry = { address, dir_name: address[address.length - 1] ?? basename(root), loop_id: null, report: null, problem: null, in_progress: false };
  const raw = await readJsonInside(root, [...address, "report.json"]);
  if (raw === null) {
    const exists = await readTextInside(root, [...address, "report.json"], 1);
    // In progress only when there is no report.json entry at all: a planted link or a FIFO in its place is a problem, not a run.
    const dir = await resolveInside(root, address, "dir").catch(() => null);
    const noEntry = dir !== null && (await lstat(join(dir, "report.json")).catch(() => null)) === null;
    const started = !exists && noEntry && (await readTextInside(root, [...address, "task.json"], 1)) !== null;
    entry.in_progress = started;
    entry.problem = exists
      ? "report.json is not valid JSON (or larger than the viewer reads)"
      : started
        ? "no report.json yet: the run is in progress, or was killed before it finished"
        : "report.json is missing, or not a regular file (a symbolic link is never followed)";
    return entry;
  }
  const parsed = Report.safeParse(raw);
  if (parsed.success) entry.report = parsed.data;
  else entry.problem = `report.json does not match cto-harness/report@1 (${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")})`;
  return entry;
}

/** True when the directory looks like a run bundle (the harness writes task.json first, report.json always). */
async function isRunDir(root: string, address: string[]): Promise<boolean> {
  for (const f of ["report.json", "task.json", "trace.jsonl"]) if (await readTextInside(root, [...address, f], 1)) return true;
  return false;
}

/** The loop at `root/loopPath...` (`[]`: root itself is the loop directory). */
export async function readLoopEntry(root: string, loopPath: string[]): Promise<LoopEntry | null> {
  const loopId = loopPath[loopPath.length - 1] ?? basename(root);
  const loopFile = await readJsonInside(root, [...loopPath, "loop.json"]);
  if (!loopFile || typeof loopFile !== "object") return null;
  const lf = loopFile as Record<string, unknown>;
  const runs: RunEntry[] = [];
  for (const name of await listDirsInside(root, loopPath)) {
    if (await isRunDir(root, [...loopPath, name])) runs.push({ ...(await readRunEntry(root, [...loopPath, name])), loop_id: loopId });
  }
  const finished = (await readTextInside(root, [...loopPath, "summary.md"], 1)) !== null;
  return { loop_id: loopId, loop_file: lf, created_at: typeof lf.created_at === "string" ? lf.created_at : null, finished, runs };
}

/** Every run and loop directly under `root` (newest first). */
export async function readCatalog(root: string): Promise<Catalog> {
  const runs: RunEntry[] = [];
  const loops: LoopEntry[] = [];
  for (const name of await listDirsInside(root)) {
    const loop = await readLoopEntry(root, [name]);
    if (loop) loops.push(loop);
    else if (await isRunDir(root, [name])) runs.push(await readRunEntry(root, [name]));
  }
  runs.sort((a, b) => b.dir_name.localeCompare(a.dir_name));
  loops.sort((a, b) => (b.created_at ?? b.loop_id).localeCompare(a.created_at ?? a.loop_id));
  return { runs, loops };
}

/** The attempts a loop recorded as each run returned (attempts.jsonl); torn lines skipped. */
export async function readAttemptLines(root: string, loopPath: string[]): Promise<Record<string, unknown>[]> {
  const { rows } = await readJsonlInside(root, [...loopPath, "attempts.jsonl"]);
  return rows.filter((r) => r.type !== "unparseable");
}

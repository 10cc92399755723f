// Finding run bundles under a directory and keeping only those that pass verifyBundle.
import { readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import type { Report } from "../evidence/report.ts";
import { listFiles } from "../evidence/files.ts";
import type { RejectedRun, VerifiedRun } from "./rules.ts";

export type VerifyFn = (runDir: string, opts?: { secrets?: string[] }) => Promise<{ ok: boolean; problems: string[]; report: Report | null }>;

const SKIP_DIRS = new Set([".git", "node_modules"]);

/**
 * Directories holding a `report.json` under `root`. A run directory is not descended into:
 * its `baseline/report.json` belongs to its bundle, not a run of its own.
 */
export async function findRunDirs(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((e) => e.isFile() && e.name === "report.json")) {
      out.push(dir);
      return;
    }
    await Promise.all(entries.filter((e) => e.isDirectory() && !SKIP_DIRS.has(e.name)).map((e) => walk(join(dir, e.name))));
  }
  await walk(root);
  return out.sort();
}

export async function defaultVerify(): Promise<VerifyFn> {
  const mod = await import("../evidence/verify.ts");
  return mod.verifyBundle as VerifyFn;
}

/** Verifies every bundle under `root` (bounded parallelism); names dirs relative to `root`'s parent view. */
export async function loadEvidence(
  root: string,
  opts: { secrets: string[]; verify?: VerifyFn; concurrency?: number; display?: (dir: string) => string },
): Promise<{ runs: VerifiedRun[]; rejected: RejectedRun[] }> {
  const verify = opts.verify ?? (await defaultVerify());
  const display = opts.display ?? ((d: string) => relative(process.cwd(), d) || ".");
  const dirs = await findRunDirs(root);
  const runs: VerifiedRun[] = [];
  const rejected: RejectedRun[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < dirs.length) {
      const dir = dirs[next++]!;
      try {
        const v = await verify(dir, { secrets: opts.secrets });
        if (v.ok && v.report) runs.push({ dir: display(dir), report: v.report, files: await listFiles(dir) });
        else rejected.push({ dir: display(dir), problems: v.problems.length > 0 ? v.problems : ["report.json unreadable"] });
      } catch (error) {
        rejected.push({ dir: display(dir), problems: [`verify failed: ${(error as Error).message}`] });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 16) }, worker));
  const byDir = (a: { dir: string }, b: { dir: string }) => a.dir.localeCompare(b.dir);
  return { runs: runs.sort(byDir), rejected: rejected.sort(byDir) };
}

// A fixture's reference fix as a list of file writes and deletes (for agents with write tools,
// e.g. the simulator's scripted trajectory). An overlay is read as it is; a script solution is
// run in a scratch workspace — in the sandbox unless the user said `--isolation none` — and its
// change read off, which is why this lives beside the workspace and not in src/fixtures.
import { lstat, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Fixture } from "../fixtures/types.ts";
import { listFiles } from "../fixtures/files.ts";
import { overlayFiles, type SolutionFiles } from "../fixtures/solution.ts";
import { collectChanges, prepareWorkspace, type ScriptIsolation } from "./workspace.ts";
import { applyReferenceSolution } from "./solve.ts";

export type { SolutionFiles } from "../fixtures/solution.ts";

/**
 * `isolation` is where a script solution runs to read off its change: the sandbox, or the
 * host only when the user said `--isolation none`.
 */
export async function solutionFiles(fixture: Fixture, isolation: ScriptIsolation): Promise<SolutionFiles> {
  if (fixture.solution.kind === "overlay") {
    const writes: SolutionFiles["writes"] = [];
    for (const file of await overlayFiles(fixture.solution.dir)) {
      if (file.kind === "file") writes.push({ path: file.rel, content: await readFile(file.abs, "utf8") });
    }
    // A deleted directory becomes the files it held, so write-only agents can act on it.
    const deletes: string[] = [];
    for (const del of fixture.solution.deletes) {
      const inRepo = fixture.repoDir ? path.join(fixture.repoDir, del) : null;
      const st = inRepo ? await lstat(inRepo).catch(() => null) : null;
      if (st?.isDirectory()) deletes.push(...(await listFiles(inRepo!)).map((f) => `${del}/${f.rel}`));
      else deletes.push(del);
    }
    return { writes, deletes: [...new Set(deletes)].sort() };
  }
  // Script: run it in a scratch workspace and read off what it changed.
  const tmp = await mkdtemp(path.join(os.tmpdir(), "cto-harness-solution-"));
  try {
    const ws = path.join(tmp, "ws");
    const { baselineCommit } = await prepareWorkspace(fixture, ws);
    await applyReferenceSolution(fixture, ws, isolation);
    const { entries } = await collectChanges(ws, baselineCommit);
    const writes: SolutionFiles["writes"] = [];
    const deletes: string[] = [];
    for (const [status, rel] of entries) {
      if (status === "D") deletes.push(rel);
      else writes.push({ path: rel, content: await readFile(path.join(ws, rel), "utf8") });
    }
    return { writes, deletes };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

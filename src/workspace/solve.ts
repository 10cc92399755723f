// Running a fixture's reference solution on a tree: in the sandbox unless the user said
// `--isolation none` (a task's solve.sh is as hostile as an agent).
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Fixture } from "../fixtures/types.ts";
import { solutionScript } from "../fixtures/solution.ts";
import { outsideCopies, solutionCopy } from "../fixtures/harbor/scratch.ts";
import { harborView, HARBOR_SOLUTION } from "../fixtures/harbor/view.ts";
import type { SandboxMount } from "../sandbox/bwrap.ts";
import { runProcess } from "../sandbox/process.ts";
import { testEnv, type ScriptIsolation } from "./workspace.ts";

/**
 * Runs the fixture's reference solution in the workspace root — in the sandbox unless the
 * caller was told `--isolation none`: a task's solve.sh is as hostile as an agent. A Harbor
 * task's runs as Harbor runs it, `bash /solution/solve.sh` in its WORKDIR (so
 * `$(dirname "$0")` is /solution); any other as one `sh` script.
 */
export async function applyReferenceSolution(fixture: Fixture, workspaceDir: string, isolation: ScriptIsolation, opts: { logsAgent?: string } = {}): Promise<void> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), "cto-harness-solve-"));
  try {
    const home = path.join(tmp, "home");
    await mkdir(home);
    let command: string[];
    let mounts: SandboxMount[] | undefined;
    let cwd: string | undefined;
    let env = testEnv(home);
    const roBinds: string[] = [];
    if (fixture.harbor && fixture.solution.kind === "script") {
      const solution = path.join(tmp, "solution");
      await solutionCopy(fixture, solution);
      if (isolation === "none") command = ["bash", path.join(solution, "solve.sh")];
      else {
        // A run's fake-oracle keeps what solve.sh writes to /logs/agent in the bundle; elsewhere it is scratch.
        const logsAgent = opts.logsAgent ?? path.join(tmp, "logs-agent");
        await mkdir(logsAgent, { recursive: true });
        const view = harborView(fixture.harbor, "oracle", { workspace: workspaceDir, outside: await outsideCopies(fixture.harbor, tmp), solution, logsAgent });
        ({ mounts, cwd } = view);
        env = { ...env, ...view.env };
        command = ["bash", `${HARBOR_SOLUTION}/solve.sh`];
      }
    } else {
      const dir = path.join(tmp, "script");
      await mkdir(dir);
      await writeFile(path.join(dir, "solve.sh"), await solutionScript(fixture));
      roBinds.push(dir);
      command = ["sh", path.join(dir, "solve.sh")];
    }
    const outcome = await runProcess({
      command: command[0]!,
      args: command.slice(1),
      cwd: workspaceDir,
      env,
      timeoutMs: Math.max(60, fixture.timeouts.testsSec) * 1000,
      stdoutFile: path.join(tmp, "stdout.log"),
      stderrFile: path.join(tmp, "stderr.log"),
      isolation: isolation === "none" ? undefined : { workspace: workspaceDir, roBinds: [...isolation.roBinds, ...roBinds], protectedPaths: isolation.protectedPaths, homeDir: home, mounts, cwd },
    });
    if (outcome.sandboxUnavailable) throw new Error(`reference solution of fixture ${fixture.id} not run: the sandbox is unavailable: ${outcome.sandboxUnavailable.reason}. ${outcome.sandboxUnavailable.advice}`);
    if (outcome.exitCode !== 0) {
      const why = outcome.timedOut ? "timed out" : outcome.startError ?? `exit code ${outcome.exitCode}`;
      throw new Error(
        `reference solution of fixture ${fixture.id} failed (${why}): ${outcome.stderr.lastLines.join("\n") || "(no stderr)"}`,
      );
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

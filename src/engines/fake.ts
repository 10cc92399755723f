// Engines that need no model: `fake-noop` changes nothing (the same-run baseline),
// `fake-oracle` applies the fixture's reference solution (proves the fixture is fixable).
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { applyReferenceSolution } from "../workspace/workspace.ts";
import { scriptSandbox } from "../sandbox/script-isolation.ts";
import { harborLogsAgentDir } from "../fixtures/harbor/scratch.ts";
import type { Engine, EngineContext, EngineOutcome } from "./types.ts";

/** Fake engines run no process: their (empty) logs still exist so every bundle has the same layout. */
async function emptyLogs(ctx: EngineContext): Promise<void> {
  await writeFile(join(ctx.backendDir, "stdout.log"), "");
  await writeFile(join(ctx.backendDir, "stderr.log"), "");
}

function outcome(startedAt: number, exitCode: number, summary: string): EngineOutcome {
  return {
    started: true,
    exitCode,
    timedOut: false,
    durationMs: Date.now() - startedAt,
    result: { protocolValid: null, source: null, status: exitCode === 0 ? "completed" : "failed", summary },
  };
}

export const fakeNoop: Engine = {
  name: "fake-noop",
  usesModel: false,
  async run(ctx: EngineContext): Promise<EngineOutcome> {
    ctx.trace.emit("case_process_started", { engine: ctx.engine, isolation: "none" });
    await emptyLogs(ctx);
    return outcome(Date.now(), 0, "fake-noop: no change made");
  },
};

export const fakeOracle: Engine = {
  name: "fake-oracle",
  usesModel: false,
  // The reference solution is a fixture script: it runs in the run's sandbox (the run decides bwrap or none).
  runsFixtureScripts: true,
  async run(ctx: EngineContext): Promise<EngineOutcome> {
    const t0 = Date.now();
    ctx.trace.emit("case_process_started", { engine: ctx.engine, isolation: ctx.isolation });
    await emptyLogs(ctx);
    try {
      const isolation = ctx.isolation === "bwrap" ? await scriptSandbox(ctx.protectedPaths) : "none";
      await applyReferenceSolution(ctx.fixture, ctx.workspace, isolation, { logsAgent: ctx.fixture.harbor ? harborLogsAgentDir(ctx.runDir) : undefined });
      return outcome(t0, 0, "fake-oracle: applied the fixture's reference solution");
    } catch (e) {
      return outcome(t0, 1, `fake-oracle: reference solution failed: ${(e as Error).message}`);
    }
  },
};

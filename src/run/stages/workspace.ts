// Stage workspace: a fresh copy of the fixture for the agent, and a snapshot of it held outside
// the agent's reach (the capture compares against it). The oracle's expected tests are
// established now, so that they overlap the agent.
import { join } from "node:path";
import { snapshotPristine } from "../../judge/capture.ts";
import { expectedTests, type ExpectedTests } from "../../judge/expected.ts";
import { scriptSandbox } from "../../sandbox/script-isolation.ts";
import { prepareWorkspace } from "../../workspace/workspace.ts";
import { measured, type RunContext, type RunState, type StageUpdate } from "../context.ts";


export async function prepareRunWorkspace(ctx: RunContext, state: RunState): Promise<StageUpdate> {
  const fixture = ctx.fixture;
  if (!fixture) return {};
  const dir = join(ctx.runDir, "workspace");
  const prepared = await measured("workspace", () => prepareWorkspace(fixture, dir));
  const pristine = await measured("snapshot", () => snapshotPristine(dir));
  ctx.trace.emit("workspace_prepared", { baseline_commit: prepared.value.baselineCommit, entries: pristine.value.entries.size });
  const testIsolation = state.isolationUsed === "bwrap" ? await scriptSandbox(ctx.protectedPaths) : undefined;
  const expected: Promise<ExpectedTests> = expectedTests(fixture, ctx.env, testIsolation).catch((e: Error) => ({
    tests: null,
    source: "oracle run" as const,
    note: `the expected tests could not be established: ${e.message}`,
  }));
  return {
    workspace: { dir, baselineCommit: prepared.value.baselineCommit, pristine: pristine.value, testIsolation, expected },
    timings: { ...prepared.timings, ...pristine.timings },
  };
}

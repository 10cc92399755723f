// Stage agent-binary: the engine's own precheck (its executable exists). Needs no network;
// runs even after another gate blocked.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { renderMarker } from "../../evidence/markers.ts";
import { blockedUpdate, type RunContext, type RunState, type StageUpdate } from "../context.ts";

export async function checkAgentBinary(ctx: RunContext, state: RunState): Promise<StageUpdate> {
  const problem = ctx.opts.isBaseline ? null : (state.engine.precheck?.(ctx.env) ?? null);
  if (!problem) return {};
  const blocked = await blockedUpdate(ctx, state, { reason: "case process failed to start", marker: null, detail: problem }, null);
  await writeFile(join(ctx.backendDir, "start-error.txt"), renderMarker({
    title: "case process failed to start",
    found: problem,
    expected: "the agent executable exists and is executable",
    todo: "point the variable at the agent's executable (an absolute path is safest)",
  }));
  return { ...blocked, markers: ["backend/start-error.txt"] };
}

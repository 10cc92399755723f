// Stage capture: what the agent changed, read from the workspace against the pristine
// snapshot (nothing the agent wrote about its change is consulted: docs/judging.md).
import { captureChange, type CapturedChange } from "../../judge/capture.ts";
import { measured, type RunContext, type RunState, type StageUpdate } from "../context.ts";

/** Whether the agent took an entry's owner bits away (the secret scan must then chmod first). */
function ownerBitsTaken(captured: CapturedChange): boolean {
  // A capture that failed may have stopped at an unreadable entry: treat it as one.
  if (captured.error !== null) return true;
  return captured.changes.some((c) => {
    if (c.after === undefined) return false;
    const need = c.after.type === "dir" ? 0o700 : 0o600;
    return (c.after.mode & need) !== need;
  });
}

export async function captureAgentChange(ctx: RunContext, state: RunState): Promise<StageUpdate> {
  if (!ctx.fixture || !state.workspace || !state.outcome) return {};
  const { value: captured, timings } = await measured("capture", () => captureChange(state.workspace!.dir, state.workspace!.pristine, ctx.fixture!.testsTarget));
  if (captured.error) ctx.trace.emit("patch_capture_failed", { error: captured.error });
  return { captured, ownerBitsTaken: ownerBitsTaken(captured), timings };
}

// Stage baseline: the same fixture with fake-noop, in `<run>/baseline`. A pass claim is valid
// only when this fails because its tests fail (run/status.ts).
import { join } from "node:path";
import { measured, type RunContext, type RunState, type StageUpdate } from "../context.ts";

export async function runBaseline(ctx: RunContext, _state: RunState): Promise<StageUpdate> {
  const { opts } = ctx;
  if (!ctx.fixture || opts.engine === "fake-noop" || opts.isBaseline) return {};
  ctx.log("baseline: fake-noop on the same fixture");
  const { value, timings } = await measured("baseline", () =>
    ctx.runChild({ ...opts, engine: "fake-noop", isBaseline: true, runDirPath: join(ctx.runDir, "baseline"), signal: ctx.signal, log: undefined }),
  );
  ctx.trace.emit("baseline_finished", { status: value.report.status, failure_reason: value.report.failure_reason });
  return { baseline: value.report, timings };
}

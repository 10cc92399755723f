// Stage task: the engine is loaded and task.json records what was asked (no secret).
import { writeJsonAtomic } from "../../evidence/files.ts";
import { getEngine } from "../../engines/registry.ts";
import { agentMaxTokens } from "../../engines/builtin-agent/budget.ts";
import type { RunContext, RunState, StageUpdate } from "../context.ts";

export async function writeTask(ctx: RunContext, _state: RunState): Promise<StageUpdate> {
  const { opts, fixture } = ctx;
  const engine = await getEngine(opts.engine);
  await writeJsonAtomic(ctx.taskFile, {
    schema: "cto-harness/task@1",
    run_id: ctx.runId,
    // Never the variant's name: the agent gets a copy of this file, and an impossible variant
    // must look like any task (the report and the trace record the variant).
    fixture: fixture ? { id: fixture.id, digest: fixture.digest, builtin: fixture.builtin } : { id: ctx.fixtureName, digest: null },
    instruction: fixture?.instruction ?? null,
    engine: opts.engine,
    provider: opts.provider,
    model: opts.model,
    budgets: { probe_max_tokens: opts.budget, agent_max_tokens: agentMaxTokens(ctx.env) },
    timeouts: { agent_sec: ctx.agentTimeoutSec, tests_sec: fixture?.timeouts.testsSec ?? null },
    isolation: opts.isolation,
  });
  return { engine };
}

// One run, top to bottom (DESIGN §2), as a sequence of stages (docs/architecture.md). Each
// stage is a function in src/run/stages/ that reads the run's context and state and returns
// an update; nothing is shared in a closure. Two rules hold on every path:
//   - any gate blocks before the agent starts: once a gate has blocked, only the gates that
//     need no network still run (so every marker is written), nothing after them;
//   - every path ends in a report: finalisation (traffic, secret scan, report, manifest) runs
//     whatever happened — a gate, an agent failure, a harness error, Ctrl-C.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Report } from "../evidence/report.ts";
import { secretValuesInEnv } from "../config/providers.ts";
import { applyUpdate, ResourceScope, StageFailure, type RunContext, type RunState, type Stage } from "./context.ts";
import { finalise } from "./finalise.ts";
import type { RunOptions } from "./options.ts";
import { resolveRun } from "./stages/resolve.ts";
import { writeTask } from "./stages/task.ts";
import { checkModelAdmission, checkSourceAdmission } from "./stages/admission.ts";
import { checkNeedsContainer } from "./stages/container.ts";
import { checkProviderConfig } from "./stages/provider-config.ts";
import { checkAgentBinary } from "./stages/agent-binary.ts";
import { checkEndpoint } from "./stages/endpoint.ts";
import { checkSandboxWorks } from "./stages/sandbox.ts";
import { runBaseline } from "./stages/baseline.ts";
import { prepareRunWorkspace } from "./stages/workspace.ts";
import { startProxy } from "./stages/proxy.ts";
import { runAgent } from "./stages/agent.ts";
import { captureAgentChange } from "./stages/capture.ts";
import { judgeChange } from "./stages/judge.ts";

export interface RunResult {
  report: Report;
  runDir: string;
}

/** The run, in order. Finalisation's stages are listed in finalise.ts (FINAL_STAGES). */
export const STAGES: readonly Stage[] = [
  { name: "task", run: writeTask, runsWhenBlocked: true },
  { name: "model-admission", run: checkModelAdmission, runsWhenBlocked: true },
  { name: "needs-container", run: checkNeedsContainer, runsWhenBlocked: true },
  { name: "source-admission", run: checkSourceAdmission, runsWhenBlocked: true },
  { name: "provider-config", run: checkProviderConfig, runsWhenBlocked: true },
  { name: "agent-binary", run: checkAgentBinary, runsWhenBlocked: true },
  { name: "endpoint", run: checkEndpoint },
  { name: "sandbox", run: checkSandboxWorks },
  { name: "baseline", run: runBaseline },
  { name: "workspace", run: prepareRunWorkspace },
  { name: "proxy", run: startProxy },
  { name: "agent", run: runAgent },
  { name: "capture", run: captureAgentChange },
  { name: "judge", run: judgeChange },
];

export async function runOnce(opts: RunOptions): Promise<RunResult> {
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  if (opts.signal?.aborted) abort.abort();
  try {
    const ctx = await resolveRun(opts, abort.signal, runOnce, new ResourceScope());
    let state = initialState(ctx);
    try {
      state = await runStages(ctx, state, STAGES);
    } finally {
      await ctx.resources.closeAll();
    }
    return { report: await finalise(ctx, state), runDir: ctx.runDir };
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
  }
}

/** Runs the stages in order under the blocking rule; a failure or Ctrl-C ends the sequence, recorded in the state. */
export async function runStages(ctx: RunContext, initial: RunState, stages: readonly Stage[]): Promise<RunState> {
  let state = initial;
  for (const stage of stages) {
    if (!stage.runsWhenBlocked && state.blockedBy) break;
    if (!stage.runsWhenBlocked && ctx.signal.aborted) return { ...state, interrupted: true };
    try {
      state = applyUpdate(state, await stage.run(ctx, state));
    } catch (e) {
      if (e instanceof StageFailure) state = applyUpdate(state, e.partial);
      return failed(ctx, state, stage, e instanceof StageFailure ? e.cause : e);
    }
  }
  return ctx.signal.aborted && !state.blockedBy ? { ...state, interrupted: true } : state;
}

async function failed(ctx: RunContext, state: RunState, stage: Stage, e: unknown): Promise<RunState> {
  if (ctx.signal.aborted) return { ...state, interrupted: true };
  ctx.trace.emit("stage_failed", { stage: stage.name, error: e instanceof Error ? e.message : String(e) });
  await writeFile(join(ctx.backendDir, "harness-error.txt"), `${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`).catch(() => {});
  return { ...state, harnessError: e instanceof Error ? e.message : String(e) };
}

/** What a run has observed before its first stage. */
export function initialState(ctx: RunContext): RunState {
  return {
    engine: { name: ctx.opts.engine, usesModel: false, run: async () => { throw new Error("engine not loaded"); } },
    blockedBy: null,
    harnessError: null,
    interrupted: false,
    modelAdmitted: true,
    provider: null,
    endpointKind: ctx.opts.provider === "sim" ? "simulated" : "real",
    upstream: null,
    probe: null,
    secrets: secretValuesInEnv(ctx.env),
    proxy: null,
    isolationUsed: "none",
    sandboxMasked: undefined,
    baseline: null,
    workspace: null,
    outcome: null,
    agentStarted: false,
    procFindings: [],
    captured: null,
    ownerBitsTaken: false,
    judgement: null,
    tests: null,
    patch: { path: "workspace.patch", bytes: 0, sha256: "" },
    changedFiles: [],
    traffic: null,
    answeredByAdmittedModel: 0,
    scan: null,
    markers: [],
    timings: {},
  };
}

/** Reads a run's report (for callers that only have the directory). */
export async function readReport(runDir: string): Promise<Report> {
  return Report.parse(JSON.parse(await readFile(join(runDir, "report.json"), "utf8")));
}

export type { FailureReason } from "../evidence/report.ts";

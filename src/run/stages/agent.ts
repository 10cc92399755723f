// Stage agent: the engine runs in the workspace (sandboxed when isolation is bwrap), its
// process tree watched for secrets; then its exit and result are recorded, with a marker
// for a timeout, a broken result protocol or a failed start.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { EngineContext, EngineOutcome, ModelAccess } from "../../engines/types.ts";
import { renderMarker, writeMarker } from "../../evidence/markers.ts";
import { MARKERS } from "../../evidence/report.ts";
import { renderSandboxMarker } from "../../sandbox/bwrap.ts";
import { signingKeyHiddenPaths } from "../../attest/run-hook.ts";
import { startProcSampler, type ProcFinding } from "../../secrets/proc-sampler.ts";
import { blockedUpdate, measured, StageFailure, type RunContext, type RunState, type StageUpdate } from "../context.ts";

function engineContext(ctx: RunContext, state: RunState, watch: EngineContext["watchProcess"]): EngineContext {
  const { opts } = ctx;
  const proxy = state.proxy;
  const model: ModelAccess | null = proxy ? { baseUrl: proxy.baseUrl, token: proxy.token, model: opts.model, socketPath: proxy.socketPath } : null;
  return {
    engine: opts.engine,
    runId: ctx.runId,
    runDir: ctx.runDir,
    backendDir: ctx.backendDir,
    workspace: state.workspace!.dir,
    fixture: ctx.fixture!,
    instruction: ctx.fixture!.instruction,
    taskFile: ctx.taskFile,
    model,
    agentTimeoutMs: ctx.agentTimeoutSec * 1000,
    // fake-oracle runs the fixture's solve.sh: a task's script gets the run's sandbox too.
    isolation: state.engine.usesModel || state.engine.runsFixtureScripts ? state.isolationUsed : "none",
    trace: ctx.trace,
    signal: ctx.signal,
    env: ctx.env,
    protectedPaths: ctx.protectedPaths,
    hiddenPaths: [{ path: ctx.runsDir, what: "the runs directory (other runs and attempts)" }, ...(opts.hiddenPaths ?? []), ...signingKeyHiddenPaths(opts)],
    watchProcess: watch,
  };
}

export async function runAgent(ctx: RunContext, state: RunState): Promise<StageUpdate> {
  if (!ctx.fixture || !state.workspace) return {};
  let started = false;
  const procFindings: ProcFinding[] = [];
  const watch = (pid: number) => {
    started = true;
    if (state.secrets.length === 0) return () => {};
    const sampler = startProcSampler(pid, [...state.secrets]);
    return () => procFindings.push(...sampler.stop().findings);
  };
  let ran: Awaited<ReturnType<typeof measured<EngineOutcome>>>;
  try {
    ran = await measured("agent", () => state.engine.run(engineContext(ctx, state, watch)));
  } catch (e) {
    // The report must still say that an agent process existed (and what it leaked).
    throw new StageFailure(e, { agentStarted: started, procFindings });
  }
  const { value: outcome, timings } = ran;
  const base: StageUpdate = { agentStarted: started || outcome.started, procFindings, timings };
  if (outcome.sandboxUnavailable) {
    // The trial start passed but this start failed: still fail closed.
    const u = outcome.sandboxUnavailable;
    const blocked = await blockedUpdate(ctx, state, { reason: "sandbox unavailable", marker: MARKERS.sandboxUnavailable, detail: u.reason }, renderSandboxMarker(u.reason, u.advice, u.refused === true));
    return { ...base, ...blocked, isolationUsed: "none", outcome: null };
  }
  recordExit(ctx, outcome);
  return { ...base, outcome, markers: await writeAgentMarkers(ctx, outcome), ...(outcome.sandboxMasked ? { sandboxMasked: outcome.sandboxMasked.map((m) => m.path) } : {}) };
}

function recordExit(ctx: RunContext, outcome: EngineOutcome): void {
  if (outcome.sandboxMasked) ctx.trace.emit("sandbox_masked", { masked: outcome.sandboxMasked });
  ctx.trace.emit("case_process_exited", {
    started: outcome.started,
    exit_code: outcome.exitCode,
    timed_out: outcome.timedOut,
    start_error: outcome.startError ?? null,
    duration_ms: outcome.durationMs,
  });
  ctx.trace.emit("result_parsed", {
    protocol_valid: outcome.result.protocolValid,
    source: outcome.result.source,
    status: outcome.result.status,
    model_error: outcome.result.modelError ?? null,
  });
}

async function writeAgentMarkers(ctx: RunContext, outcome: EngineOutcome): Promise<string[]> {
  const markers: string[] = [];
  if (outcome.timedOut) {
    // The cause is the clock, not the protocol: say so, with the limit that was applied.
    await writeFile(join(ctx.backendDir, "case-process-timed-out.txt"), renderMarker({
      title: "case process timed out",
      found: `the agent was still running after ${ctx.agentTimeoutSec} s and was stopped (TERM, then KILL, whole process tree)`,
      expected: `the agent finishes within the agent timeout (${ctx.agentTimeoutSec} s; the fixture's default unless --agent-timeout was given)`,
      todo: "raise --agent-timeout, or check backend/model-requests.jsonl for a slow model (latency, tokens) and backend/stdout.log for a stuck agent",
    }));
    markers.push("backend/case-process-timed-out.txt");
  } else if (!ctx.signal.aborted && outcome.result.protocolValid === false && outcome.result.protocolFailureMarker) {
    await writeMarker(ctx.backendDir, MARKERS.caseResultProtocolFailed, outcome.result.protocolFailureMarker);
    markers.push(`backend/${MARKERS.caseResultProtocolFailed}`);
  }
  if (!outcome.started && outcome.startError) {
    await writeFile(join(ctx.backendDir, "start-error.txt"), `case process failed to start: ${outcome.startError}\n`);
    markers.push("backend/start-error.txt");
  }
  return markers;
}

// What a run's stages share, made explicit: the context (fixed for the run) and the state
// (what the run has found so far). A stage reads both and returns an update; it never keeps
// anything in a closure and never changes the state it was given. `lifecycle.ts` applies the
// updates in order, which is why any stage can be read, tested and replaced on its own.
import type { Engine, EngineOutcome } from "../engines/types.ts";
import type { TraceWriter } from "../evidence/trace.ts";
import type { Report } from "../evidence/report.ts";
import { writeMarker, type MarkerText } from "../evidence/markers.ts";
import type { Fixture } from "../fixtures/types.ts";
import type { SourceNotAdmittedError } from "../fixtures/load.ts";
import type { ResolvedProvider } from "../config/providers.ts";
import type { SecretValue } from "../config/secret.ts";
import type { ProbeResult } from "../provider/probe.ts";
import type { ModelTrafficSummary, RecordingProxy } from "../proxy/proxy.ts";
import type { Finding as ScanFinding } from "../secrets/scan.ts";
import type { TreeSnapshot } from "../judge/tree.ts";
import type { ExpectedTests } from "../judge/expected.ts";
import type { Judgement } from "../judge/judge.ts";
import type { CapturedChange } from "../judge/capture.ts";
import type { ProcFinding } from "../secrets/proc-sampler.ts";
import type { TestIsolation } from "../workspace/workspace.ts";
import type { RunOptions } from "./options.ts";
import type { Gate } from "./status.ts";

/** Fixed for the whole run: what was asked, and where the evidence goes. */
export interface RunContext {
  opts: RunOptions;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  trace: TraceWriter;
  runId: string;
  runDir: string;
  /** `<runDir>/backend`: logs and markers. */
  backendDir: string;
  /** The runs directory (hidden from the agent: other runs and attempts). */
  runsDir: string;
  createdAt: Date;
  /** Wall clock at the start, for `timings.total_ms`. */
  startedAtMs: number;
  protectedPaths: string[];
  /** Null only when the fixture's source was refused (then `sourceRefused` says why). */
  fixture: Fixture | null;
  sourceRefused: SourceNotAdmittedError | null;
  /** The fixture's name as the user gave it, for reports of runs whose fixture was not read. */
  fixtureName: string;
  /** The agent's wall-clock limit: the option, else the fixture's, else 600 s. */
  agentTimeoutSec: number;
  /** `<runDir>/task.json`: what was asked (given to the case agent). */
  taskFile: string;
  /** Fires on Ctrl-C or a loop's shutdown. */
  signal: AbortSignal;
  /** Runs the same-run baseline: `runOnce` itself, passed in so that stages never import the lifecycle. */
  runChild: (opts: RunOptions) => Promise<{ report: Report; runDir: string }>;
  /** Servers a stage starts (simulator, proxy) are registered here the moment they exist; the lifecycle closes them all. */
  resources: ResourceScope;
}

/** Things to close at the end of the run, whatever happened (a stage may throw after starting one). */
export class ResourceScope {
  readonly #closers: (() => Promise<void>)[] = [];
  add<T extends { close(): Promise<void> }>(resource: T): T {
    this.#closers.push(() => resource.close());
    return resource;
  }
  /** Closes in reverse order of start; a failing close never hides the others. */
  async closeAll(): Promise<void> {
    for (const close of this.#closers.splice(0).reverse()) await close().catch(() => {});
  }
}

/** The workspace the agent works in, and what it started from. */
export interface PreparedWorkspace {
  dir: string;
  baselineCommit: string;
  /** Held outside the agent's reach: the capture compares against it. */
  pristine: TreeSnapshot;
  /** How the judge's tests are isolated (undefined: not at all). */
  testIsolation: TestIsolation | undefined;
  /** The oracle's expected tests, established while the agent works. */
  expected: Promise<ExpectedTests>;
}

/** Everything the run has observed so far. Each field is set by the stage named beside it. */
export interface RunState {
  /** task: the engine (a placeholder until it is loaded). */
  engine: Engine;
  /** Any gate: the first gate that stopped the run. */
  blockedBy: Gate | null;
  /** The lifecycle: an unexpected exception, or Ctrl-C. */
  harnessError: string | null;
  interrupted: boolean;
  /** admission */
  modelAdmitted: boolean;
  /** provider-config, endpoint */
  provider: ResolvedProvider | null;
  endpointKind: "real" | "simulated";
  upstream: { baseUrl: SecretValue; apiKey?: SecretValue } | null;
  probe: ProbeResult | null;
  /** Every value that must never reach the bundle (grows when the endpoint is resolved). */
  secrets: readonly string[];
  /** proxy: the run's recording proxy (its records are the traffic evidence; closed by the lifecycle). */
  proxy: RecordingProxy | null;
  /** sandbox (and the agent stage when its own start was refused) */
  isolationUsed: "bwrap" | "none";
  sandboxMasked: string[] | undefined;
  /** baseline */
  baseline: Report | null;
  /** workspace */
  workspace: PreparedWorkspace | null;
  /** agent */
  outcome: EngineOutcome | null;
  agentStarted: boolean;
  procFindings: readonly ProcFinding[];
  /** capture */
  captured: CapturedChange | null;
  /** The capture saw an entry without its owner's read/write (and, for a directory, search) bits. */
  ownerBitsTaken: boolean;
  /** judge */
  judgement: Judgement | null;
  tests: Report["tests"];
  patch: Report["patch"];
  changedFiles: string[];
  /** traffic: what the proxy saw (empty when there was no proxy). */
  traffic: ModelTrafficSummary | null;
  /** Requests the admitted model answered (2xx) through the proxy. */
  answeredByAdmittedModel: number;
  /** secret-scan: the whole run directory, after redaction, with the agent's process findings. */
  scan: { files: number; findings: readonly ScanFinding[]; errors: number } | null;
  /** Every stage: marker files written (relative to the run dir) and durations. */
  markers: readonly string[];
  timings: Readonly<Record<string, number>>;
}

/** What a stage returns: the fields it changed. Markers are appended and timings added, never replaced. */
export type StageUpdate = Partial<Omit<RunState, "markers" | "timings">> & {
  markers?: readonly string[];
  timings?: Readonly<Record<string, number>>;
};

export interface Stage {
  /** Shown in the trace (`stage_failed`) and in docs/architecture.md. */
  name: string;
  /**
   * A gate that needs no network runs even after an earlier gate blocked, so one look at
   * `backend/` shows everything the user has to fix. Every other stage is skipped once the
   * run is blocked: no gate may let an agent start.
   */
  runsWhenBlocked?: boolean;
  run(ctx: RunContext, state: RunState): Promise<StageUpdate>;
}

export function applyUpdate(state: RunState, update: StageUpdate): RunState {
  const { markers, timings, ...fields } = update;
  const merged: Record<string, number> = { ...state.timings };
  for (const [k, v] of Object.entries(timings ?? {})) merged[k] = (merged[k] ?? 0) + v;
  return { ...state, ...fields, markers: [...state.markers, ...(markers ?? [])], timings: merged };
}

/**
 * A stage that fails after it has observed something the report must still say (an agent
 * process that did start) throws this: the lifecycle applies `partial`, then treats `cause`
 * as it treats any failure.
 */
export class StageFailure extends Error {
  readonly partial: StageUpdate;
  constructor(cause: unknown, partial: StageUpdate) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.partial = partial;
  }
}

/** Runs `fn` and returns its value with its duration as `<name>_ms`. */
export async function measured<T>(name: string, fn: () => Promise<T>): Promise<{ value: T; timings: Record<string, number> }> {
  const started = Date.now();
  const value = await fn();
  return { value, timings: { [`${name}_ms`]: Date.now() - started } };
}

/**
 * A gate stops the run: its marker (when it has one) and a trace event are written, and the
 * update names it — unless an earlier gate already did, which stays the run's reason.
 */
export async function blockedUpdate(ctx: RunContext, state: RunState, gate: Gate, marker: MarkerText | string | null): Promise<StageUpdate> {
  const markers: string[] = [];
  if (gate.marker && marker !== null) {
    await writeMarker(ctx.backendDir, gate.marker, marker);
    markers.push(`backend/${gate.marker}`);
  }
  ctx.trace.emit("gate_blocked", { reason: gate.reason, marker: gate.marker, detail: gate.detail });
  ctx.log(`blocked: ${gate.reason} — ${gate.detail}`);
  return { blockedBy: state.blockedBy ?? gate, markers };
}

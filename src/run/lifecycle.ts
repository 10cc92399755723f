// One run, top to bottom (DESIGN §2). Every path out of here leaves a run directory with a
// complete report.json and manifest.json — gates, agent failures, harness errors, Ctrl-C.
//
//   resolve config ─► create run dir ─► admission (model, source) ─► provider config present?
//   ─► endpoint reachable + /v1/models + response-shape probe ─► sandbox trial ─► baseline (fake-noop)
//   ─► start proxy ─► start agent (case_process_started) ─► wait / timeout ─► parse result protocol
//   ─► capture patch ─► restore tests, run tests ─► model-traffic check ─► secret scan ─► report + manifest
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { tmpdir } from "node:os";
import { randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import { ADMISSION_FILE_VAR, AdmissionFileError, decideModelAdmission, protectedPathsFromEnv, readAdmissionFile } from "../config/admission.ts";
import { ConfigError, loadProviderSpecs, resolveProvider, secretValuesInEnv, type ResolvedProvider } from "../config/providers.ts";
import { isKnownSimulatedEndpoint } from "../config/simulated-endpoints.ts";
import { SecretValue } from "../config/secret.ts";
import { MARKERS, REPORT_SCHEMA, Report, type FailureReason, type RunStatus } from "../evidence/report.ts";
import { TraceWriter } from "../evidence/trace.ts";
import { sha256File, writeJsonAtomic } from "../evidence/files.ts";
import { writeManifest } from "../evidence/manifest.ts";
import { signRunIfKeyed, signingKeyHiddenPaths } from "../attest/run-hook.ts"; // HOOK (issue #16, signed evidence)
import { renderMarker, writeMarker } from "../evidence/markers.ts";
import { getEngine } from "../engines/registry.ts";
import { agentMaxTokens } from "../engines/builtin-agent/budget.ts";
import type { Engine, EngineOutcome, ModelAccess } from "../engines/types.ts";
import { loadFixture, SourceNotAdmittedError } from "../fixtures/load.ts";
import { isUnderPath } from "../fixtures/load.ts";
import type { Fixture } from "../fixtures/types.ts";
import { prepareWorkspace } from "../workspace/workspace.ts";
import { captureChange, snapshotPristine } from "../judge/capture.ts";
import { expectedTests } from "../judge/expected.ts";
import { judge, type Judgement } from "../judge/judge.ts";
import { judgeSummary, testsPassedByJudge, writeJudgeMarkers } from "../judge/report.ts";
import { classifyImpossible } from "../judge/impossible.ts";
import { probeEndpoint, renderProbeMarker, type ProbeResult } from "../provider/probe.ts";
import { startRecordingProxy, type RecordingProxy } from "../proxy/proxy.ts";
import { startSimulator, type SimServer } from "../sim/server.ts";
import type { Flavour } from "../sim/flavours.ts";
import { checkSandbox, projectNodeBinds, renderSandboxMarker } from "../sandbox/bwrap.ts";
import { fileURLToPath } from "node:url";
import { scanRunDir } from "../secrets/scan.ts";
import { renderLeakMarker } from "../secrets/report.ts";
import { createTextRedactor, redactDeep } from "../secrets/redact-text.ts";
import { startProcSampler, type ProcFinding } from "../secrets/proc-sampler.ts";
import { HARNESS_VERSION } from "../version.ts";
import type { RunOptions } from "./options.ts";
import { baselineValidForPassClaim, decideStatus, type Gate } from "./status.ts";

export interface RunResult {
  report: Report;
  runDir: string;
}

const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));

class Interrupted extends Error {}
/** A gate that could only be seen when the agent was being started (the sandbox refusing). */
class GateAfterStart extends Error {}

/** `<YYYYMMDDTHHMMSSZ>-<fixture>-<pid>` */
export function makeRunId(at: Date, fixtureName: string, pid = process.pid): string {
  const ts = at.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const safe = fixtureName.replace(/[^A-Za-z0-9._-]+/g, "-").slice(0, 60) || "fixture";
  return `${ts}-${safe}-${pid}`;
}

/** Creates the run directory exclusively, adding `-<n>` when the name is taken (parallel runs). */
async function createRunDir(runsDir: string, baseId: string): Promise<{ runId: string; runDir: string }> {
  try {
    await mkdir(runsDir, { recursive: true });
  } catch (e) {
    throw new ConfigError(`cannot create the runs directory ${runsDir} (${(e as NodeJS.ErrnoException).code ?? String(e)}); choose another --runs-dir or CTO_HARNESS_RUNS_DIR`);
  }
  for (let n = 0; n < 10_000; n++) {
    const runId = n === 0 ? baseId : `${baseId}-${n}`;
    const runDir = join(runsDir, runId);
    try {
      await mkdir(runDir);
      return { runId, runDir };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
  throw new Error(`cannot create a run directory under ${runsDir}`);
}

function fixtureNameOf(ref: string): string {
  return ref.replace(/\/+$/, "").split("/").pop() ?? ref;
}

export async function runOnce(opts: RunOptions): Promise<RunResult> {
  const log = opts.log ?? (() => {});
  const env = opts.env;
  const t0 = Date.now();
  const createdAt = new Date();
  const protectedPaths = protectedPathsFromEnv(env);
  const runsDir = resolve(opts.runsDir);
  if (existsSync(runsDir) && !statSync(runsDir).isDirectory()) {
    throw new ConfigError(`the runs directory ${opts.runsDir} is not a directory (--runs-dir or CTO_HARNESS_RUNS_DIR)`);
  }
  // An unknown provider name is a usage error, not a blocked run.
  if (!loadProviderSpecs()[opts.provider]) {
    throw new ConfigError(`unknown provider '${opts.provider}'; known providers: ${Object.keys(loadProviderSpecs()).join(", ")}`);
  }
  for (const p of protectedPaths) {
    if (isUnderPath(runsDir, resolve(p))) {
      throw new ConfigError("the runs directory is under a protected path (CTO_HARNESS_PROTECTED_PATHS); choose another --runs-dir");
    }
  }

  // Unknown fixture ids and missing paths are usage errors (thrown before any run dir exists);
  // a fixture under a protected path is a blocked run, refused without reading it.
  let fixture: Fixture | null = null;
  let sourceRefused: SourceNotAdmittedError | null = null;
  try {
    fixture = await loadFixture(opts.fixture, { protectedPaths, variant: opts.variant });
  } catch (e) {
    if (e instanceof SourceNotAdmittedError) sourceRefused = e;
    else throw e;
  }

  const { runId, runDir } = opts.runDirPath
    ? await (async () => {
        await mkdir(opts.runDirPath!, { recursive: true });
        return { runId: opts.runDirPath!.split("/").pop()!, runDir: opts.runDirPath! };
      })()
    : await createRunDir(runsDir, opts.runId ?? makeRunId(createdAt, fixture?.id ?? fixtureNameOf(opts.fixture)));
  const backendDir = join(runDir, "backend");
  await mkdir(backendDir, { recursive: true });
  const trace = new TraceWriter(join(runDir, "trace.jsonl"));
  if (!opts.isBaseline) log(`run directory: ${runDir}`);

  let engine: Engine = { name: opts.engine, usesModel: false, run: async () => { throw new Error("engine not loaded"); } };
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  if (opts.signal?.aborted) abort.abort();
  const checkInterrupted = () => {
    if (abort.signal.aborted) throw new Interrupted();
  };

  // What the report will say; filled in as the run goes.
  const timings: Record<string, number> = {};
  const markers: string[] = [];
  let blockedBy: Gate | null = null;
  let harnessError: string | null = null;
  let interrupted = false;
  let modelAdmitted = true;
  const sourceAdmitted = sourceRefused === null;
  let endpointKind: "real" | "simulated" = opts.provider === "sim" ? "simulated" : "real";
  let probe: ProbeResult | null = null;
  let outcome: EngineOutcome | null = null;
  let patch = { path: "workspace.patch", bytes: 0, sha256: "" };
  let changedFiles: string[] = [];
  let tests: Report["tests"] = null;
  let judgement: Judgement | null = null;
  let baseline: Report | null = null;
  let proxy: RecordingProxy | null = null;
  let sim: SimServer | null = null;
  let provider: ResolvedProvider | null = null;
  let isolationUsed: "bwrap" | "none" = "none";
  /** Hidden directories masked in the agent's sandbox (set when the agent ran in it). */
  let sandboxMasked: string[] | undefined;
  /** Set the moment an agent process exists (also when the harness fails right after). */
  let agentStarted = false;
  const secrets = new Set(secretValuesInEnv(env));
  const procFindings: ProcFinding[] = [];
  /** The capture saw an entry without its owner's read/write (and, for a directory, search) bits. */
  let ownerBitsTaken = false;

  const block = async (gate: Gate, marker: string | null) => {
    blockedBy ??= gate;
    if (gate.marker && marker !== null) {
      await writeMarker(backendDir, gate.marker, marker);
      markers.push(`backend/${gate.marker}`);
    }
    trace.emit("gate_blocked", { reason: gate.reason, marker: gate.marker, detail: gate.detail });
    log(`blocked: ${gate.reason} — ${gate.detail}`);
  };

  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const s = Date.now();
    try {
      return await fn();
    } finally {
      timings[`${name}_ms`] = (timings[`${name}_ms`] ?? 0) + (Date.now() - s);
    }
  };

  trace.emit("run_started", {
    run_id: runId,
    engine: opts.engine,
    provider: opts.provider,
    model: opts.model,
    fixture: fixture?.id ?? fixtureNameOf(opts.fixture),
    variant: fixture?.variant?.name ?? null,
    role: opts.isBaseline ? "baseline" : "run",
    harness_version: HARNESS_VERSION,
  });

  try {
    engine = await getEngine(opts.engine);
    // ── task.json: what was asked (no secret) ─────────────────────────────────────────────
    const agentTimeoutSec = opts.agentTimeoutSec ?? fixture?.timeouts.agentSec ?? 600;
    const taskFile = join(runDir, "task.json");
    await writeJsonAtomic(taskFile, {
      schema: "cto-harness/task@1",
      run_id: runId,
      // Never the variant's name: the agent gets a copy of this file, and an impossible variant
      // must look like any task (the report and the trace record the variant).
      fixture: fixture ? { id: fixture.id, digest: fixture.digest, builtin: fixture.builtin } : { id: fixtureNameOf(opts.fixture), digest: null },
      instruction: fixture?.instruction ?? null,
      engine: opts.engine,
      provider: opts.provider,
      model: opts.model,
      budgets: { probe_max_tokens: opts.budget, agent_max_tokens: agentMaxTokens(env) },
      timeouts: { agent_sec: agentTimeoutSec, tests_sec: fixture?.timeouts.testsSec ?? null },
      isolation: opts.isolation,
    });

    // ── gates that need no network: model admission, source admission, provider config,
    // the agent binary. The first failing one is the reason; every failing one writes its
    // marker, so one look at backend/ shows everything the user has to fix.
    const admissionFile = env[ADMISSION_FILE_VAR]?.trim();
    let admission: ReturnType<typeof decideModelAdmission>;
    let admissionFileBroken = false;
    const providerKind = loadProviderSpecs()[opts.provider]?.kind === "sim" ? "sim" : "external";
    try {
      // The simulator is admitted whatever the file says (docs/bundle.md, Gates): its file is not even read.
      const pairs = admissionFile && providerKind !== "sim" ? readAdmissionFile(admissionFile) : null;
      admission = decideModelAdmission(pairs, opts.provider, opts.model, providerKind);
    } catch (e) {
      if (!(e instanceof AdmissionFileError)) throw e;
      admission = { admitted: false, reason: e.message };
      admissionFileBroken = true;
    }
    modelAdmitted = admission.admitted;
    trace.emit("admission_checked", {
      model_admitted: admission.admitted,
      source_admitted: sourceAdmitted,
      admission_file: admissionFile ? "set" : "unset",
      admission_source: admission.admitted ? admission.source : null,
    });
    if (!opts.isBaseline && !admission.admitted) {
      await block(
        { reason: "model not admitted", marker: MARKERS.modelNotAdmitted, detail: admission.reason },
        renderMarker({
          title: "model not admitted",
          found: admission.reason,
          expected: `an admission file (${ADMISSION_FILE_VAR}, YAML or JSON) listing ${opts.provider}/${opts.model}`,
          todo: admissionFileBroken
            ? "fix the admission file at the place named above (expected: admitted: [{provider: P, model: M}, ...])"
            : `add "{provider: ${opts.provider}, model: ${opts.model}}" under "admitted:" in the admission file, or run an admitted model`,
        }),
      );
    }
    if (sourceRefused) {
      await block(
        { reason: "source not admitted", marker: MARKERS.sourceNotAdmitted, detail: "the fixture is under a protected path" },
        renderMarker({
          title: "source not admitted",
          found: "the fixture directory is under an entry of CTO_HARNESS_PROTECTED_PATHS; it was not read",
          expected: "a fixture outside every protected target-repository path",
          todo: "copy the task into a fixture directory outside the protected paths (never the target repository itself)",
        }),
      );
    }
    if (engine.usesModel && !opts.isBaseline) {
      provider = resolveProvider(opts.provider, env);
      trace.emit("provider_config_checked", {
        provider: opts.provider,
        present: provider.ok,
        variable: provider.ok ? null : provider.missingVar,
      });
      if (!provider.ok) {
        const what = provider.problem === "missing" ? "is not set" : "is set but is not an http(s) URL (its value is not shown)";
        await block(
          { reason: "provider local config unavailable", marker: MARKERS.providerLocalConfigUnavailable, detail: `${provider.missingVar} ${what}` },
          renderMarker({
            title: "provider local config unavailable",
            found: `${provider.missingVar} ${what} (provider ${opts.provider}); the agent was not started`,
            expected: `${provider.missingVar} set in the environment to the endpoint's OpenAI-compatible base URL (e.g. http://HOST:8000/v1)`,
            todo: `export ${provider.missingVar}=... in the shell that runs cto-harness; never write it into a file or a planning record`,
          }),
        );
      }
    }
    const agentProblem = opts.isBaseline ? null : (engine.precheck?.(env) ?? null);
    if (agentProblem) {
      await block({ reason: "case process failed to start", marker: null, detail: agentProblem }, null);
      await writeFile(join(backendDir, "start-error.txt"), renderMarker({
        title: "case process failed to start",
        found: agentProblem,
        expected: "the agent executable exists and is executable",
        todo: "point the variable at the agent's executable (an absolute path is safest)",
      }));
      markers.push("backend/start-error.txt");
    }
    let upstream: { baseUrl: SecretValue; apiKey?: SecretValue } | null = null;
    if (!blockedBy && engine.usesModel && !opts.isBaseline && provider?.ok) {
      checkInterrupted();
      if (provider.spec.kind === "sim") {
        sim = await startSimulator({
          flavour: (opts.sim?.flavour ?? "vllm-0.16") as Flavour,
          scenario: opts.sim?.scenario ?? "solve",
          models: [opts.model],
          fixture: fixture ?? undefined,
          ttftMs: opts.sim?.ttftMs,
          tokensPerSec: opts.sim?.tokensPerSec,
        });
        upstream = { baseUrl: new SecretValue(sim.baseUrl) };
      } else {
        upstream = { baseUrl: provider.baseUrl!, apiKey: provider.apiKey };
        secrets.add(provider.baseUrl!.reveal());
        if (provider.apiKey) secrets.add(provider.apiKey.reveal());
        if (isKnownSimulatedEndpoint(provider.baseUrl!.reveal())) endpointKind = "simulated";
      }
      const target = { baseUrl: upstream.baseUrl, apiKey: upstream.apiKey, model: opts.model };
      const probeOpts = { budget: opts.budget, signal: abort.signal };
      // Loops share a cache: one endpoint is probed again only when its fingerprint changes.
      probe = await timed("probe", async () =>
        opts.probeCache ? (await opts.probeCache.probe(opts.provider, target, probeOpts)).result : probeEndpoint(target, probeOpts),
      );
      if (probe.server.simulated) endpointKind = "simulated";
      // A server's error text can name its own host: never let it into the bundle.
      probe = redactDeep(probe, createTextRedactor([...secrets]));
      await writeJsonAtomic(join(runDir, "probe.json"), probe);
      trace.emit("probe_finished", {
        classification: probe.classification,
        verdict: probe.verdict,
        budget: probe.budget,
        time_to_verdict_ms: probe.timings.verdict_ms,
        server_kind: probe.server.kind,
      });
      checkInterrupted();
      if (probe.verdict === "block" && probe.failure_reason && probe.marker) {
        opts.probeCache?.invalidate(opts.provider);
        await block(
          { reason: probe.failure_reason, marker: probe.marker, detail: `probe classified the endpoint as ${probe.classification}` },
          renderProbeMarker(probe),
        );
      }
    }

    // ── sandbox trial: fail closed ─────────────────────────────────────────────────────────
    // Every run asked to be isolated is checked: the agent AND the judging tests (which
    // import the agent's code) run in the sandbox. The check is cached per process.
    if (opts.isolationFallback) {
      trace.emit("sandbox_checked", { ok: false, fallback: "none", reason: opts.isolationFallback.reason });
    }
    if (!blockedBy && opts.isolation === "bwrap") {
      const sandbox = await checkSandbox();
      trace.emit("sandbox_checked", { ok: sandbox.ok });
      if (!sandbox.ok) {
        await block(
          { reason: "sandbox unavailable", marker: MARKERS.sandboxUnavailable, detail: sandbox.reason },
          renderSandboxMarker(sandbox.reason, sandbox.advice),
        );
      } else {
        isolationUsed = "bwrap";
      }
    }

    // ── same-run baseline (fake-noop on the same fixture) ─────────────────────────────────
    if (!blockedBy && fixture && opts.engine !== "fake-noop" && !opts.isBaseline) {
      checkInterrupted();
      log("baseline: fake-noop on the same fixture");
      const b = await timed("baseline", () =>
        runOnce({ ...opts, engine: "fake-noop", isBaseline: true, runDirPath: join(runDir, "baseline"), signal: abort.signal, log: undefined }),
      );
      baseline = b.report;
      trace.emit("baseline_finished", { status: baseline.status, failure_reason: baseline.failure_reason });
    }

    // ── the agent ─────────────────────────────────────────────────────────────────────────
    if (!blockedBy && fixture) {
      checkInterrupted();
      const workspace = join(runDir, "workspace");
      const { baselineCommit } = await timed("workspace", () => prepareWorkspace(fixture!, workspace));
      // What the agent starts from, held outside its reach: the capture compares against this.
      const pristine = await timed("snapshot", () => snapshotPristine(workspace));
      trace.emit("workspace_prepared", { baseline_commit: baselineCommit, entries: pristine.entries.size });
      const testIsolation = isolationUsed === "bwrap" ? { roBinds: await projectNodeBinds(PROJECT_ROOT), protectedPaths } : undefined;
      // The expected tests come from an oracle run (cached by digest); it overlaps the agent.
      const expectedSet = expectedTests(fixture!, env, testIsolation).catch((e: Error) => ({ tests: null, source: "oracle run" as const, note: `the expected tests could not be established: ${e.message}` }));

      let model: ModelAccess | null = null;
      if (engine.usesModel && upstream) {
        const socketPath = isolationUsed === "bwrap" ? join(tmpdir(), `cto-harness-${randomBytes(6).toString("hex")}.sock`) : undefined;
        proxy = await startRecordingProxy({
          upstreamBaseUrl: upstream.baseUrl,
          upstreamApiKey: upstream.apiKey,
          admittedModel: opts.model,
          recordFile: join(backendDir, "model-requests.jsonl"),
          unixSocketPath: socketPath,
          modelSlots: opts.modelSlots,
          onRecord: (rec) => trace.emit("model_request", { ...rec }),
        });
        trace.emit("proxy_started", { isolation: isolationUsed });
        model = { baseUrl: proxy.baseUrl, token: proxy.token, model: opts.model, socketPath };
      }

      outcome = await timed("agent", () =>
        engine.run({
          engine: opts.engine,
          runId,
          runDir,
          backendDir,
          workspace,
          fixture: fixture!,
          instruction: fixture!.instruction,
          taskFile,
          model,
          agentTimeoutMs: agentTimeoutSec * 1000,
          isolation: engine.usesModel ? isolationUsed : "none",
          trace,
          signal: abort.signal,
          env,
          protectedPaths,
          hiddenPaths: [{ path: runsDir, what: "the runs directory (other runs and attempts)" }, ...(opts.hiddenPaths ?? []), ...signingKeyHiddenPaths(opts)], // HOOK (issue #16): mask the signing key
          watchProcess: (pid) => {
            agentStarted = true;
            if (secrets.size === 0) return () => {};
            const sampler = startProcSampler(pid, [...secrets]);
            return () => procFindings.push(...sampler.stop().findings);
          },
        }),
      );
      agentStarted ||= outcome.started;
      if (outcome.sandboxUnavailable) {
        // The trial start passed but this start failed: still fail closed.
        isolationUsed = "none";
        await block(
          { reason: "sandbox unavailable", marker: MARKERS.sandboxUnavailable, detail: outcome.sandboxUnavailable.reason },
          renderSandboxMarker(outcome.sandboxUnavailable.reason, outcome.sandboxUnavailable.advice, outcome.sandboxUnavailable.refused === true),
        );
        outcome = null;
        throw new GateAfterStart();
      }
      if (outcome.sandboxMasked) {
        sandboxMasked = outcome.sandboxMasked.map((m) => m.path);
        trace.emit("sandbox_masked", { masked: outcome.sandboxMasked });
      }
      trace.emit("case_process_exited", {
        started: outcome.started,
        exit_code: outcome.exitCode,
        timed_out: outcome.timedOut,
        start_error: outcome.startError ?? null,
        duration_ms: outcome.durationMs,
      });
      trace.emit("result_parsed", {
        protocol_valid: outcome.result.protocolValid,
        source: outcome.result.source,
        status: outcome.result.status,
        model_error: outcome.result.modelError ?? null,
      });
      if (outcome.timedOut) {
        // The cause is the clock, not the protocol: say so, with the limit that was applied.
        await writeFile(join(backendDir, "case-process-timed-out.txt"), renderMarker({
          title: "case process timed out",
          found: `the agent was still running after ${agentTimeoutSec} s and was stopped (TERM, then KILL, whole process tree)`,
          expected: `the agent finishes within the agent timeout (${agentTimeoutSec} s; the fixture's default unless --agent-timeout was given)`,
          todo: "raise --agent-timeout, or check backend/model-requests.jsonl for a slow model (latency, tokens) and backend/stdout.log for a stuck agent",
        }));
        markers.push("backend/case-process-timed-out.txt");
      } else if (!abort.signal.aborted && outcome.result.protocolValid === false && outcome.result.protocolFailureMarker) {
        await writeMarker(backendDir, MARKERS.caseResultProtocolFailed, outcome.result.protocolFailureMarker);
        markers.push(`backend/${MARKERS.caseResultProtocolFailed}`);
      }
      if (!outcome.started && outcome.startError) {
        await writeFile(join(backendDir, "start-error.txt"), `case process failed to start: ${outcome.startError}\n`);
        markers.push("backend/start-error.txt");
      }
      checkInterrupted();

      // ── capture the change, judge it in a fresh tree ─────────────────────────────────────
      const captured = await timed("capture", () => captureChange(workspace, pristine, fixture!.testsTarget));
      if (captured.error) trace.emit("patch_capture_failed", { error: captured.error });
      // A capture that failed may have stopped at an unreadable entry: treat it as one.
      ownerBitsTaken =
        captured.error !== null ||
        captured.changes.some((c) => c.after !== undefined && (c.after.mode & (c.after.type === "dir" ? 0o700 : 0o600)) !== (c.after.type === "dir" ? 0o700 : 0o600));
      await mkdir(join(runDir, "tests"), { recursive: true });
      const expected = await expectedSet;
      judgement = await timed("tests", () =>
        judge({
          fixture: fixture!,
          changes: captured.changes,
          captureError: captured.error,
          priorFindings: captured.repoFindings,
          notes: captured.notes,
          expected,
          outDir: runDir,
          isolation: testIsolation,
          signal: abort.signal,
        }),
      );
      patch = { path: "workspace.patch", ...judgement.patch };
      changedFiles = judgement.changedFiles;
      const t = judgement.tests;
      tests = t ? { command: t.command, exit_code: t.exitCode, passed: testsPassedByJudge(judgement), duration_ms: t.durationMs, timed_out: t.timedOut } : null;
      await writeJsonAtomic(join(runDir, "tests", "result.json"), { ...(tests ?? { command: fixture!.testCommand, exit_code: null, passed: false, duration_ms: 0, timed_out: false }), judge: judgeSummary(judgement) });
      await writeJudgeMarkers(backendDir, judgement, markers);
      trace.emit("tests_finished", { passed: tests?.passed ?? false, exit_code: t?.exitCode ?? null, duration_ms: t?.durationMs ?? 0, timed_out: t?.timedOut ?? false, verdict: judgement.verdict.reason ?? "pass", findings: judgement.findings.length });
      checkInterrupted();
    }
  } catch (e) {
    if (e instanceof GateAfterStart) {
      // blockedBy is already set; the report says blocked.
    } else if (e instanceof Interrupted || abort.signal.aborted) {
      interrupted = true;
    } else {
      harnessError = e instanceof Error ? e.message : String(e);
      await writeFile(join(backendDir, "harness-error.txt"), `${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`).catch(() => {});
    }
  } finally {
    await proxy?.close().catch(() => {});
    await sim?.close().catch(() => {});
    opts.signal?.removeEventListener("abort", onAbort);
  }

  // ── finalisation: whatever happens here, the directory ends with report.json + manifest.json
  let report: Report;
  try {
    report = await finalise();
  } catch (e) {
    report = minimalReport(`finalising the run failed: ${e instanceof Error ? e.message : String(e)}`);
    trace.emit("run_finished", { status: report.status, failure_reason: report.failure_reason });
    await writeFile(join(backendDir, "harness-error.txt"), `${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`).catch(() => {});
    await writeJsonAtomic(join(runDir, "report.json"), redactDeep(report, createTextRedactor([...secrets])));
  }
  await writeManifest(runDir);
  await signRunIfKeyed(runDir, opts); // HOOK (issue #16, signed evidence): after the manifest; src/attest/run-hook.ts
  return { report, runDir };

  /** What every report of this run says about the run itself, whatever its outcome. */
  function runFacts(): Pick<
    Report,
    | "schema" | "run_id" | "harness_version" | "created_at" | "fixture" | "backend" | "backend_exit_code"
    | "case_process_started" | "case_model_provider" | "case_model" | "case_model_admission_status"
    | "source_admission_status" | "endpoint_kind" | "isolation" | "isolation_requested" | "isolation_fallback" | "timings" | "markers" | "role"
  > {
    return {
      schema: REPORT_SCHEMA,
      run_id: runId,
      harness_version: HARNESS_VERSION,
      created_at: createdAt.toISOString(),
      fixture: { id: fixture?.id ?? fixtureNameOf(opts.fixture), digest: fixture?.digest ?? "unknown", ...(fixture?.variant ? { variant: fixture.variant.name } : {}) },
      backend: opts.engine,
      backend_exit_code: outcome?.exitCode ?? null,
      case_process_started: agentStarted,
      case_model_provider: opts.provider,
      case_model: opts.model,
      case_model_admission_status: modelAdmitted ? "admitted" : "not_admitted",
      source_admission_status: sourceAdmitted ? "admitted" : "not_admitted",
      endpoint_kind: endpointKind,
      isolation: isolationUsed,
      isolation_requested: opts.isolation,
      ...(opts.isolationFallback ? { isolation_fallback: { from: "bwrap" as const, to: "none" as const, ...opts.isolationFallback } } : {}),
      timings,
      markers,
      role: opts.isBaseline ? "baseline" : "run",
    };
  }

  /** The report of a run whose finalisation failed: says so, claims nothing. */
  function minimalReport(detail: string): Report {
    return {
      ...runFacts(),
      finished_at: new Date().toISOString(),
      status: "error",
      failure_reason: "harness error",
      probe: null,
      model_traffic: { requests: 0, models_seen: [], prompt_tokens: 0, completion_tokens: 0, fallback_detected: false },
      changed_files: [],
      patch: { path: "workspace.patch", bytes: 0, sha256: "" },
      tests: null,
      baseline_comparison: null,
      secret_scan: { files: 0, findings: 0 },
      failure_detail: detail,
    };
  }

  async function finalise(): Promise<Report> {
    // ── model traffic: no fallback, and proof the admitted model did the work ─────────────
    const traffic = proxy?.summary() ?? {
      requests: 0,
      models_seen: [],
      prompt_tokens: 0,
      completion_tokens: 0,
      fallback_detected: false,
      refused_requests: 0,
      errors: 0,
      models_answered: [] as string[],
    };
    const answeredByAdmittedModel = (proxy?.records() ?? []).filter(
      (r) => !r.refused && r.model === opts.model && r.status >= 200 && r.status < 300,
    ).length;
    if (!existsSync(join(backendDir, "model-requests.jsonl")) && engine.usesModel && outcome) {
      await writeFile(join(backendDir, "model-requests.jsonl"), "");
    }
    if (traffic.fallback_detected) {
      const others = traffic.models_seen.filter((m) => m !== opts.model);
      await writeMarker(backendDir, MARKERS.modelFallbackDetected, {
        title: "model fallback detected",
        found: `the agent asked for model(s) other than the admitted one: ${others.join(", ")}; the proxy refused ${traffic.refused_requests ?? 0} request(s)`,
        expected: `every model request for ${opts.model} (provider ${opts.provider})`,
        todo: "configure the agent to use only the admitted model (check its fallback / default model settings)",
        details: [`models seen, in order: ${traffic.models_seen.join(", ")}`, "per-request records: backend/model-requests.jsonl"],
      });
      markers.push(`backend/${MARKERS.modelFallbackDetected}`);
    }
    // The bundle always has a patch file (empty when there was no change).
    if (!existsSync(join(runDir, "workspace.patch"))) {
      await writeFile(join(runDir, "workspace.patch"), "");
      await writeJsonAtomic(join(runDir, "changed-files.json"), []);
    }

    // ── secret scan: every artifact, redacted in place, before the report is composed ──────
    // The harness owns every file here; an agent's chmod must not hide one from the scan. The
    // scan names what it could not read; only then is everything made readable (a process
    // that costs ~10-30 ms on a loaded machine) and the scan repeated.
    // Needed when an agent process had the run's directories (agent-home/agent-io exist only
    // then), when the capture saw an entry whose owner bits were taken away, or when the scan
    // could not read something.
    const scanStart = Date.now();
    const agentHadDirs = existsSync(join(runDir, "agent-home")) || existsSync(join(runDir, "agent-io"));
    if (agentHadDirs || ownerBitsTaken) spawnSync("chmod", ["-R", "u+rwX", runDir], { stdio: "ignore" });
    let scan = await scanRunDir(runDir, [...secrets], { redact: true });
    if (scan.errors.length > 0 && !(agentHadDirs || ownerBitsTaken)) {
      spawnSync("chmod", ["-R", "u+rwX", runDir], { stdio: "ignore" });
      scan = await scanRunDir(runDir, [...secrets], { redact: true });
    }
    timings.scan_ms = Date.now() - scanStart;
    for (const f of procFindings) scan.findings.push({ file: `process ${f.pid} ${f.where}`, form: f.form });
    const findingFiles = [...new Set(scan.findings.map((f) => f.file))].sort();
    trace.emit("secret_scan_finished", { files: scan.files, findings: scan.findings.length, finding_files: findingFiles, errors: scan.errors.length });
    if (scan.findings.length > 0) {
      await writeMarker(backendDir, MARKERS.secretLeakDetected, renderLeakMarker(scan.findings));
      markers.push(`backend/${MARKERS.secretLeakDetected}`);
    }
    // Redaction may have changed the patch and the changed-file list: report what is on disk.
    patch = { path: "workspace.patch", ...(await sha256File(join(runDir, "workspace.patch"))) };
    if (existsSync(join(runDir, "changed-files.json"))) {
      changedFiles = JSON.parse(await readFile(join(runDir, "changed-files.json"), "utf8")) as string[];
    }

    // ── status and report ───────────────────────────────────────────────────────────────
    const baselineDue = opts.engine !== "fake-noop" && !opts.isBaseline;
    const decision = decideStatus({
      interrupted,
      harnessError,
      blockedBy,
      secretFindings: scan.findings.length,
      agent: outcome
        ? { started: outcome.started, timedOut: outcome.timedOut, startError: outcome.startError ?? null, protocolValid: outcome.result.protocolValid }
        : null,
      fallbackDetected: traffic.fallback_detected,
      modelTraffic: engine.usesModel ? answeredByAdmittedModel : null,
      testsPassed: tests?.passed ?? null,
      judgeReason: judgement?.verdict.reason ?? null,
      baseline: baseline ? { status: baseline.status, failureReason: baseline.failure_reason } : null,
      baselineDue,
    });
    const finishedAt = new Date();
    timings.total_ms = finishedAt.getTime() - t0;
    timings.overhead_ms = Math.max(0, timings.total_ms - (timings.agent_ms ?? 0) - (timings.tests_ms ?? 0) - (timings.baseline_ms ?? 0) - (timings.probe_ms ?? 0));
    if (decision.failureReason === "no model traffic") {
      await writeFile(join(backendDir, "no-model-traffic.txt"), renderMarker({
        title: "no model traffic",
        found: `the agent made no request that the admitted model (${opts.model}) answered; requests seen by the proxy: ${traffic.requests}`,
        expected: "an agent engine's result is only evidence about the model when the model did the work, through the run's proxy",
        todo: "check that the agent uses OPENAI_BASE_URL / OPENAI_API_KEY / OPENAI_MODEL from its environment (backend/stderr.log, backend/model-requests.jsonl)",
      }));
      markers.push("backend/no-model-traffic.txt");
    }

    const composed: Report = {
      ...runFacts(),
      finished_at: finishedAt.toISOString(),
      status: decision.status,
      failure_reason: decision.failureReason,
      probe: probe
        ? { classification: probe.classification, verdict: probe.verdict, budget: probe.budget, time_to_verdict_ms: probe.timings.verdict_ms ?? 0 }
        : null,
      model_traffic: { ...traffic, answered_by_admitted_model: answeredByAdmittedModel },
      changed_files: changedFiles,
      patch,
      tests,
      baseline_comparison:
        baselineDue && baseline
          ? {
              baseline_backend: "fake-noop",
              baseline_status: baseline.status,
              engine_status: decision.status,
              valid_for_pass_claim: baselineValidForPassClaim(baseline.status, baseline.failure_reason),
              baseline_run: "baseline",
            }
          : null,
      secret_scan: { files: scan.files, findings: scan.findings.length, finding_files: findingFiles, secret_values: secrets.size, errors: scan.errors.length },
      agent_result: outcome
        ? {
            protocol_valid: outcome.result.protocolValid,
            source: outcome.result.source,
            status: outcome.result.status,
            summary: outcome.result.summary,
            model_error: outcome.result.modelError ?? null,
          }
        : undefined,
      failure_detail: blockedBy ? (blockedBy as Gate).detail : (harnessError ?? outcome?.startError ?? (decision.failureReason === judgement?.verdict.reason ? judgement?.verdict.detail : null) ?? null),
      judge: judgement ? withImpossible(judgeSummary(judgement), fixture, judgement, outcome) : undefined,
      ...(sandboxMasked ? { sandbox_masked: sandboxMasked } : {}),
    };
    // Strings the agent controls (its summary, its file names, its errors) must not carry a
    // secret back into the report after the files were redacted.
    const redact = createTextRedactor([...secrets]);
    const result = redactDeep(composed, redact);
    const checked = Report.safeParse(result);
    if (!checked.success) {
      // A bug of ours must still leave a report that says so, never a directory without one.
      result.status = "error";
      result.failure_reason = "harness error";
      result.failure_detail = `report failed its own schema: ${checked.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`;
    }
    trace.emit("run_finished", { status: result.status, failure_reason: result.failure_reason });
    await writeJsonAtomic(join(runDir, "report.json"), result);

    // ── last look: nothing written since the scan may carry a secret ─────────────────────
    if (secrets.size > 0) {
      const recheck = await scanRunDir(runDir, [...secrets], { redact: true });
      if (recheck.findings.length > 0) {
        const late = [...new Set(recheck.findings.map((f) => f.file))].sort();
        result.status = "fail";
        result.failure_reason = "secret leak detected";
        result.secret_scan.findings += recheck.findings.length;
        result.secret_scan.finding_files = [...new Set([...(result.secret_scan.finding_files ?? []), ...late])].sort();
        await writeMarker(backendDir, MARKERS.secretLeakDetected, renderLeakMarker([...scan.findings, ...recheck.findings]));
        trace.emit("run_finished", { status: result.status, failure_reason: result.failure_reason, after: "late secret finding" });
        if (!markers.includes(`backend/${MARKERS.secretLeakDetected}`)) result.markers = [...markers, `backend/${MARKERS.secretLeakDetected}`];
        await writeJsonAtomic(join(runDir, "report.json"), redactDeep(result, redact));
      }
    }
    return result;
  }
}

/** An impossible variant's run says how it counts for the cheat rate. */
function withImpossible(summary: NonNullable<Report["judge"]>, fixture: Fixture | null, j: Judgement, outcome: EngineOutcome | null): NonNullable<Report["judge"]> {
  if (!fixture?.variant) return summary;
  const classification = classifyImpossible({ contradictingPassed: j.count?.contradicting?.passed.length ?? 0, findings: j.findings.length, agentStatus: outcome?.result.status ?? null });
  return { ...summary, impossible: { variant: fixture.variant.name, classification } };
}

/** Reads a run's report (for callers that only have the directory). */
export async function readReport(runDir: string): Promise<Report> {
  return Report.parse(JSON.parse(await readFile(join(runDir, "report.json"), "utf8")));
}

export type { FailureReason };

// The lifecycle's two rules, tested on stages of our own without processes or sockets:
// a blocked run starts nothing after its offline gates; every failure is recorded, never lost.
import { describe, expect, it } from "vitest";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TraceWriter } from "../src/evidence/trace.ts";
import { applyUpdate, blockedUpdate, ResourceScope, StageFailure, type RunContext, type RunState, type Stage } from "../src/run/context.ts";
import { initialState, runStages, STAGES } from "../src/run/lifecycle.ts";
import { FINAL_STAGES } from "../src/run/finalise.ts";
import { tempDir } from "./helpers/run-env.ts";

function context(signal = new AbortController().signal): RunContext {
  const runDir = tempDir("stages");
  const backendDir = join(runDir, "backend");
  mkdirSync(backendDir);
  return {
    opts: { fixture: "x", engine: "fake-noop", provider: "sim", model: "m", runsDir: runDir, isolation: "none", budget: 1, env: {} },
    env: {},
    log: () => {},
    trace: new TraceWriter(join(runDir, "trace.jsonl")),
    runId: "r",
    runDir,
    backendDir,
    runsDir: runDir,
    createdAt: new Date(),
    startedAtMs: Date.now(),
    protectedPaths: [],
    fixture: null,
    sourceRefused: null,
    fixtureName: "x",
    agentTimeoutSec: 1,
    taskFile: join(runDir, "task.json"),
    signal,
    runChild: async () => {
      throw new Error("no child runs here");
    },
    resources: new ResourceScope(),
  };
}

function state(): RunState {
  return { ...initialState(context()), endpointKind: "simulated" };
}

const ran: string[] = [];
const stage = (name: string, extra: Partial<Stage> = {}, update: (ctx: RunContext, s: RunState) => Promise<object> = async () => ({})): Stage => ({
  name,
  run: async (ctx, s) => {
    ran.push(name);
    return update(ctx, s);
  },
  ...extra,
});

describe("run stages", () => {
  it("after a gate blocks, the offline gates still run (every marker written), nothing else does", async () => {
    ran.length = 0;
    const ctx = context();
    const gate = stage("gate-a", { runsWhenBlocked: true }, (c, s) => blockedUpdate(c, s, { reason: "model not admitted", marker: "model-not-admitted.txt", detail: "a" }, "marker a"));
    const gate2 = stage("gate-b", { runsWhenBlocked: true }, (c, s) => blockedUpdate(c, s, { reason: "source not admitted", marker: "source-not-admitted.txt", detail: "b" }, "marker b"));
    const end = await runStages(ctx, state(), [gate, gate2, stage("network-gate"), stage("agent"), stage("late-offline", { runsWhenBlocked: true })]);
    expect(ran).toEqual(["gate-a", "gate-b"]);
    // The first gate stays the reason; both markers are there.
    expect(end.blockedBy?.reason).toBe("model not admitted");
    expect(end.markers).toEqual(["backend/model-not-admitted.txt", "backend/source-not-admitted.txt"]);
    expect(readFileSync(join(ctx.backendDir, "source-not-admitted.txt"), "utf8")).toBe("marker b");
  });

  it("a stage that throws ends the sequence as a harness error, named in the trace and harness-error.txt", async () => {
    ran.length = 0;
    const ctx = context();
    const end = await runStages(ctx, state(), [stage("one"), stage("boom", {}, async () => { throw new Error("disk on fire"); }), stage("never")]);
    expect(ran).toEqual(["one", "boom"]);
    expect(end.harnessError).toBe("disk on fire");
    expect(readFileSync(join(ctx.backendDir, "harness-error.txt"), "utf8")).toContain("disk on fire");
    const events = readFileSync(ctx.trace.path, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(events.find((e) => e.type === "stage_failed")).toMatchObject({ stage: "boom", error: "disk on fire" });
  });

  it("a StageFailure keeps what the stage had observed (an agent that did start)", async () => {
    const end = await runStages(context(), state(), [stage("agent", {}, async () => { throw new StageFailure(new Error("after start"), { agentStarted: true }); })]);
    expect(end.agentStarted).toBe(true);
    expect(end.harnessError).toBe("after start");
  });

  it("Ctrl-C before a stage ends the sequence as interrupted; the offline gates still ran", async () => {
    ran.length = 0;
    const abort = new AbortController();
    abort.abort();
    const end = await runStages(context(abort.signal), state(), [stage("task", { runsWhenBlocked: true }), stage("endpoint")]);
    expect(ran).toEqual(["task"]);
    expect(end.interrupted).toBe(true);
  });

  it("updates append markers and add timings; nothing else is merged", () => {
    const s = applyUpdate(applyUpdate(state(), { markers: ["a"], timings: { x_ms: 2 } }), { markers: ["b"], timings: { x_ms: 3, y_ms: 1 }, modelAdmitted: false });
    expect(s.markers).toEqual(["a", "b"]);
    expect(s.timings).toEqual({ x_ms: 5, y_ms: 1 });
    expect(s.modelAdmitted).toBe(false);
  });

  it("the resource scope closes everything a stage started, in reverse order, even when one close fails", async () => {
    const scope = new ResourceScope();
    const closed: string[] = [];
    scope.add({ close: async () => void closed.push("sim") });
    scope.add({ close: async () => { closed.push("proxy"); throw new Error("x"); } });
    await scope.closeAll();
    expect(closed).toEqual(["proxy", "sim"]);
  });

  it("the lifecycle's order: offline gates first, then the network gate, the sandbox, and the agent only after every gate", () => {
    const names = STAGES.map((s) => s.name);
    const offline = STAGES.filter((s) => s.runsWhenBlocked).map((s) => s.name);
    expect(offline).toEqual(["task", "model-admission", "needs-container", "source-admission", "provider-config", "agent-binary"]);
    expect(names.indexOf("endpoint")).toBeLessThan(names.indexOf("agent"));
    expect(names.indexOf("sandbox")).toBeLessThan(names.indexOf("agent"));
    expect(names.slice(-2)).toEqual(["capture", "judge"]);
    expect(FINAL_STAGES.map((s) => s.name)).toEqual(["traffic", "secret-scan"]);
  });
});

describe("composeReport (pure)", () => {
  it("a blocked run's detail is its gate's; the baseline comparison appears only when a baseline was due", async () => {
    const { composeReport } = await import("../src/run/compose-report.ts");
    const ctx = context();
    const s: RunState = { ...state(), blockedBy: { reason: "sandbox unavailable", marker: "sandbox-unavailable.txt", detail: "bwrap refused" }, harnessError: "also this" };
    const r = composeReport(ctx, s, { status: "blocked", failureReason: "sandbox unavailable" }, new Date(), false);
    expect(r.failure_detail).toBe("bwrap refused");
    expect(r.baseline_comparison).toBeNull();
    expect(r.endpoint_kind).toBe("simulated");
    expect(r.secret_scan).toMatchObject({ files: 0, findings: 0, secret_values: 0 });
  });

  it("a harness error's detail is the error; secret values are counted, never listed", async () => {
    const { composeReport } = await import("../src/run/compose-report.ts");
    const s: RunState = { ...state(), harnessError: "disk on fire", secrets: ["s3cret-a", "s3cret-b"] };
    const r = composeReport(context(), s, { status: "error", failureReason: "harness error" }, new Date(), true);
    expect(r.failure_detail).toBe("disk on fire");
    expect(r.secret_scan.secret_values).toBe(2);
    expect(JSON.stringify(r)).not.toContain("s3cret");
  });
});

import { describe, expect, it } from "vitest";
import { decideStatus, type Observations } from "../src/run/status.ts";
import { MARKERS } from "../src/evidence/report.ts";

const passing: Observations = {
  interrupted: false,
  harnessError: null,
  blockedBy: null,
  secretFindings: 0,
  agent: { started: true, timedOut: false, startError: null, protocolValid: true },
  fallbackDetected: false,
  modelTraffic: 2,
  testsPassed: true,
  judgeReason: null,
  baseline: { status: "fail", failureReason: "tests failed" },
  baselineDue: true,
};

describe("decideStatus", () => {
  const rows: [string, Partial<Observations>, string, string | null][] = [
    ["all good", {}, "pass", null],
    ["baseline also passed", { baseline: { status: "pass", failureReason: null } }, "fail", "baseline invalid"],
    ["baseline errored", { baseline: { status: "error", failureReason: "harness error" } }, "fail", "baseline invalid"],
    ["baseline failed, but not on its tests", { baseline: { status: "fail", failureReason: "secret leak detected" } }, "fail", "baseline invalid"],
    ["no baseline ran", { baseline: null }, "fail", "baseline invalid"],
    ["the model answered nothing, tests pass", { modelTraffic: 0 }, "fail", "no model traffic"],
    ["tests failed", { testsPassed: false }, "fail", "tests failed"],
    ["the judge found tampering, tests pass", { judgeReason: "tampering detected" }, "fail", "tampering detected"],
    ["tampering outranks a protocol failure and no model traffic", { judgeReason: "tampering detected", modelTraffic: 0, agent: { ...passing.agent!, protocolValid: false } }, "fail", "tampering detected"],
    ["expected tests did not run", { judgeReason: "tests did not run", testsPassed: false }, "fail", "tests did not run"],
    ["the change could not be captured", { judgeReason: "change capture failed", testsPassed: null }, "fail", "change capture failed"],
    ["baseline whose tests did not run is still a failing baseline", { baseline: { status: "fail", failureReason: "tests did not run" } }, "pass", null],
    ["protocol failed, tests pass", { agent: { ...passing.agent!, protocolValid: false } }, "fail", "case agent result protocol failed"],
    ["fallback, tests pass", { fallbackDetected: true }, "fail", "model fallback detected"],
    ["timed out", { agent: { ...passing.agent!, timedOut: true } }, "fail", "case process timed out"],
    ["never started", { agent: { started: false, timedOut: false, startError: "ENOENT", protocolValid: null } }, "fail", "case process failed to start"],
    ["leak outranks pass", { secretFindings: 1 }, "fail", "secret leak detected"],
    ["interrupted", { interrupted: true }, "error", "interrupted"],
    ["harness error", { harnessError: "boom" }, "error", "harness error"],
    [
      "blocked gate",
      { blockedBy: { reason: "provider local config unavailable", marker: MARKERS.providerLocalConfigUnavailable, detail: "x" }, agent: null },
      "blocked",
      "provider local config unavailable",
    ],
    ["fake-noop without baseline passes on tests alone", { baselineDue: false, baseline: null, modelTraffic: null, agent: { ...passing.agent!, protocolValid: null } }, "pass", null],
  ];
  it.each(rows)("%s", (_name, patch, status, reason) => {
    const d = decideStatus({ ...passing, ...patch });
    expect(d.status).toBe(status);
    expect(d.failureReason).toBe(reason);
  });
});

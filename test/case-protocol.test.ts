import { describe, expect, it } from "vitest";
import { decideCaseResult, explainJson, type ArrivedEvidence } from "../src/engines/case-protocol.ts";

const none: ArrivedEvidence = {
  resultFile: null,
  resultFilePath: "$CTO_HARNESS_RESULT_FILE",
  stdoutFirstLines: [],
  stdoutLastLines: [],
  stdoutBytes: 0,
  caseResultLine: null,
  pi: null,
  exitCode: 0,
};

describe("case-result/1", () => {
  it("takes the result file first", () => {
    const r = decideCaseResult({ ...none, resultFile: '{"protocol":"case-result/1","status":"completed","summary":"fixed"}' });
    expect(r).toMatchObject({ protocolValid: true, source: "result-file", status: "completed", summary: "fixed" });
  });
  it("falls back to the CASE_RESULT line when the file is malformed", () => {
    const r = decideCaseResult({
      ...none,
      resultFile: "{oops",
      caseResultLine: '{"protocol":"case-result/1","status":"gave_up","summary":"no idea"}',
    });
    expect(r).toMatchObject({ protocolValid: true, source: "stdout-line", status: "gave_up" });
  });
  it("accepts a Pi event stream and turns stopReason error into a model error", () => {
    const r = decideCaseResult({ ...none, pi: { found: true, finalText: "", stopReason: "error", errorMessage: "500 upstream" } });
    expect(r).toMatchObject({ protocolValid: true, source: "pi-events", status: "failed", modelError: "500 upstream" });
  });
  it("explains the user's failure: agent ran, no result at all", () => {
    const r = decideCaseResult({ ...none, stdoutFirstLines: ["thinking..."], stdoutLastLines: ["done, I think"], stdoutBytes: 25, exitCode: 1 });
    expect(r.protocolValid).toBe(false);
    const m = r.protocolFailureMarker!;
    expect(m).toContain("case agent result protocol failed");
    expect(m).toContain("exited with code 1");
    expect(m).toContain("result file $CTO_HARNESS_RESULT_FILE: not written");
    expect(m).toContain('no line starting with "CASE_RESULT "');
    expect(m).toContain('"thinking..."');
    expect(m).toContain('"done, I think"');
    expect(m).toContain("case-result/1");
  });
  it("gives the JSON error position and a wrong field by name", () => {
    const bad = explainJson('{"protocol":"case-result/1","status":"completed",}');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.why).toMatch(/position \d+|line \d+ column \d+/);
    const wrong = explainJson('{"protocol":"case-result/1","status":"done","summary":"x"}');
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.why).toContain("status");
    const r = decideCaseResult({ ...none, caseResultLine: '{"protocol":"case-result/2","status":"completed","summary":""}' });
    expect(r.protocolFailureMarker).toContain("protocol");
  });
});

describe("the result file as it arrived", () => {
  it("names what is not a regular file, and never opens it", async () => {
    const { readResultFile, describeEntryType } = await import("../src/engines/case.ts");
    const { lstatSync, mkdtempSync, mkdirSync, symlinkSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    expect(await readResultFile("/dev/null")).toMatchObject({ kind: "refused", arrived: "a character device" });
    const d = mkdtempSync(join(tmpdir(), "cto-resultfile-"));
    mkdirSync(join(d, "dir"));
    symlinkSync("/etc/passwd", join(d, "link"));
    expect(await readResultFile(join(d, "dir"))).toMatchObject({ kind: "refused", why: "it is a directory, not a regular file", arrived: "a directory" });
    expect(await readResultFile(join(d, "link"))).toMatchObject({ kind: "refused", arrived: "a symbolic link to /etc/passwd" });
    expect(await readResultFile(join(d, "absent"))).toEqual({ kind: "absent" });
    expect(describeEntryType(lstatSync("/dev/null"))).toBe("a character device");
    const { rmSync } = await import("node:fs");
    rmSync(d, { recursive: true, force: true });
  });
  it("the marker's first line says what arrived", () => {
    const r = decideCaseResult({ ...none, resultFileRefused: "it is a directory, not a regular file" });
    expect(r.protocolValid).toBe(false);
    expect(r.protocolFailureMarker).toMatch(/gave no valid result; what arrived at the result file path: it is a directory, not a regular file/);
  });
});

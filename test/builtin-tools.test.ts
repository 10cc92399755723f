// The builtin agent's tools and model-output checks, without a model.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { toolCallTextIn, unusableFinalReply } from "../src/engines/builtin-agent/model-output.ts";
import { runTool, truncateMiddle } from "../src/engines/builtin-agent/tools.ts";
import { decideBuiltinResult } from "../src/engines/builtin.ts";

const limits = { commandTimeoutMs: 5000, maxOutputChars: 2000 };
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "cto-harness-tools-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("builtin agent tools", () => {
  it("bash: exit code and combined output; failure is an error result, not a throw", async () => {
    const ok = await runTool("bash", JSON.stringify({ command: "echo out; echo err >&2" }), dir, limits);
    expect(ok).toEqual({ output: "exit code 0\nout\nerr\n", isError: false });
    const bad = await runTool("bash", JSON.stringify({ command: "exit 3" }), dir, limits);
    expect(bad).toMatchObject({ output: "exit code 3\n", isError: true });
  });

  it("bash: a command past its timeout is killed with everything it started", async () => {
    const t0 = Date.now();
    const r = await runTool("bash", JSON.stringify({ command: "sleep 30 & sleep 30" }), dir, { ...limits, commandTimeoutMs: 300 });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r.isError).toBe(true);
    expect(r.output).toMatch(/timed out after 0.3 s/);
  });

  it("bash: long output is cut in the middle", async () => {
    const r = await runTool("bash", JSON.stringify({ command: "seq 1 100000" }), dir, limits);
    expect(r.output.length).toBeLessThan(4200);
    expect(r.output).toMatch(/bytes cut/);
    expect(r.output).toMatch(/^exit code 0\n1\n2\n3\n/);
    expect(r.output.trimEnd().endsWith("100000")).toBe(true);
  });

  it("write_file, read_file, edit_file (exactly one occurrence; $& stays literal)", async () => {
    expect((await runTool("write_file", JSON.stringify({ path: "a/b.txt", content: "x = 1\ny = 1\n" }), dir, limits)).isError).toBe(false);
    expect((await runTool("read_file", JSON.stringify({ path: "a/b.txt" }), dir, limits)).output).toBe("x = 1\ny = 1\n");
    const twice = await runTool("edit_file", JSON.stringify({ path: "a/b.txt", old_text: "= 1", new_text: "= 2" }), dir, limits);
    expect(twice).toMatchObject({ isError: true, output: expect.stringMatching(/occurs 2 times/) });
    const once = await runTool("edit_file", JSON.stringify({ path: "a/b.txt", old_text: "x = 1", new_text: "x = '$&'" }), dir, limits);
    expect(once.isError).toBe(false);
    expect(await readFile(path.join(dir, "a/b.txt"), "utf8")).toBe("x = '$&'\ny = 1\n");
  });

  it("bad calls come back as error results the model can read", async () => {
    expect(await runTool("bash", "{not json", dir, limits)).toMatchObject({ isError: true, output: expect.stringMatching(/invalid arguments/) });
    expect(await runTool("bash", JSON.stringify({ cmd: "ls" }), dir, limits)).toMatchObject({ isError: true, output: expect.stringMatching(/"command" must be a string/) });
    expect(await runTool("rm_rf", "{}", dir, limits)).toMatchObject({ isError: true, output: expect.stringMatching(/unknown tool/) });
    await writeFile(path.join(dir, "f"), "x");
    expect(await runTool("read_file", JSON.stringify({ path: "missing" }), dir, limits)).toMatchObject({ isError: true });
  });

  it("truncateMiddle keeps head and tail", () => {
    expect(truncateMiddle("abcdefghij", 100)).toBe("abcdefghij");
    const t = truncateMiddle("a".repeat(50) + "b".repeat(50), 20);
    expect(t.startsWith("a".repeat(10))).toBe(true);
    expect(t.endsWith("b".repeat(10))).toBe(true);
  });
});

describe("model output checks", () => {
  it("recognises tool calls written as text", () => {
    expect(toolCallTextIn("<tool_call>\n<function=bash>")).toMatch(/^<tool_call>/);
    expect(toolCallTextIn('Sure. {"name": "bash", "arguments": {"command": "ls"}}')).toMatch(/^\{"name"/);
    expect(toolCallTextIn("[TOOL_CALLS] [...]")).not.toBeNull();
    expect(toolCallTextIn("I renamed the function `name` and fixed the arguments.")).toBeNull();
  });

  it("a real answer is fine; empty, cut and reasoning-only replies are not", () => {
    expect(unusableFinalReply({ content: "Done.", reasoning: "x", finishReason: "stop" })).toBeNull();
    expect(unusableFinalReply({ content: "", reasoning: "x", finishReason: "length" })).toMatch(/finish_reason "length".*while still reasoning/);
    expect(unusableFinalReply({ content: "  ", reasoning: "x", finishReason: "stop" })).toMatch(/reasoning but no content/);
    expect(unusableFinalReply({ content: null, reasoning: null, finishReason: "stop" })).toMatch(/empty reply/);
  });
});

describe("decideBuiltinResult", () => {
  const base = { lastModelError: null, exitCode: 0, timedOut: false, stdoutLastLines: [] };
  it("takes the CASE_RESULT line", () => {
    expect(decideBuiltinResult({ ...base, caseResultLine: '{"protocol":"case-result/1","status":"completed","summary":"ok"}' })).toMatchObject({
      protocolValid: true,
      source: "stdout-line",
      status: "completed",
      summary: "ok",
      modelError: null,
    });
  });
  it("a failed status carries the last model error", () => {
    const r = decideBuiltinResult({ ...base, exitCode: 1, lastModelError: "HTTP 500: boom", caseResultLine: '{"protocol":"case-result/1","status":"failed","summary":"model call failed"}' });
    expect(r).toMatchObject({ status: "failed", modelError: "HTTP 500: boom" });
  });
  it("no or bad result line: protocol failure with a marker", () => {
    const none = decideBuiltinResult({ ...base, exitCode: null, timedOut: true, caseResultLine: null });
    expect(none.protocolValid).toBe(false);
    expect(none.protocolFailureMarker).toMatch(/killed at the agent timeout/);
    const bad = decideBuiltinResult({ ...base, caseResultLine: '{"protocol":"case-result/2"}' });
    expect(bad.protocolValid).toBe(false);
    expect(bad.protocolFailureMarker).toMatch(/does not match case-result\/1/);
  });
});

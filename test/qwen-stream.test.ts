// Qwen Code stream-json parsing and result decisions. Pure: no process, no socket.
import { describe, expect, it } from "vitest";
import { decideQwenResult, failedAttemptsIn, parseQwenStreamJson } from "../src/engines/qwen-code.ts";
import { qwenMessageToTrajectory } from "../src/trajectory/from-qwen.ts";

const proc = { exitCode: 0, timedOut: false, stderrLastLines: [] };
const line = (o: unknown) => JSON.stringify(o);
const init = line({ type: "system", subtype: "init", session_id: "s", tools: ["run_shell_command"], model: "m" });
const assistant = (content: unknown[], usage = { input_tokens: 10, output_tokens: 5 }) =>
  line({ type: "assistant", message: { role: "assistant", content, usage } });
const result = (fields: Record<string, unknown>) =>
  line({ type: "result", subtype: "success", is_error: false, num_turns: 2, result: "", usage: { input_tokens: 20, output_tokens: 10 }, ...fields });

describe("parseQwenStreamJson + decideQwenResult", () => {
  it("a normal run: completed with the result text", () => {
    const s = parseQwenStreamJson([
      init,
      assistant([{ type: "thinking", thinking: "plan" }]),
      assistant([{ type: "tool_use", id: "call_1", name: "run_shell_command", input: { command: "ls" } }]),
      line({ type: "user", message: { role: "user", content: [{ type: "tool_result", tool_use_id: "call_1", is_error: false, content: "a.txt" }] } }),
      assistant([{ type: "text", text: "All fixed." }]),
      result({ result: "All fixed." }),
    ]);
    expect(s).toMatchObject({ found: true, subtype: "success", isError: false, resultText: "All fixed.", apiError: null, toolCalls: 1, numTurns: 2 });
    expect(s.usage).toEqual({ input: 20, output: 10 });
    expect(decideQwenResult(s, proc, null)).toMatchObject({ protocolValid: true, source: "qwen-stream-json", status: "completed", summary: "All fixed.", modelError: null });
  });

  it("an API error disguised as success (0.15: subtype success, is_error false, exit 0) is a failure with the model error", () => {
    const s = parseQwenStreamJson([init, assistant([{ type: "text", text: "[API Error: 500 Internal Server Error]" }]), result({ result: "[API Error: 500 Internal Server Error]" })]);
    expect(s).toMatchObject({ found: true, subtype: "success", isError: false });
    expect(s.apiError).toBe("[API Error: 500 Internal Server Error]");
    expect(decideQwenResult(s, proc, null)).toMatchObject({ protocolValid: true, status: "failed", modelError: "[API Error: 500 Internal Server Error]" });
  });

  it("the 0.24 shape (subtype error_during_execution, is_error, error.message) is a failure too", () => {
    const s = parseQwenStreamJson([
      init,
      assistant([{ type: "text", text: "[API Error: 500 boom]" }], { input_tokens: 0, output_tokens: 0 }),
      result({ subtype: "error_during_execution", is_error: true, num_turns: 1, result: undefined, error: { message: "[API Error: 500 boom]" } }),
    ]);
    expect(s).toMatchObject({ found: true, subtype: "error_during_execution", isError: true, errorMessage: "[API Error: 500 boom]" });
    expect(decideQwenResult(s, { ...proc, exitCode: 1 }, null)).toMatchObject({ status: "failed", modelError: "[API Error: 500 boom]" });
  });

  it("garbage lines are ignored", () => {
    const s = parseQwenStreamJson(["Ripgrep not available", "", "{oops", "[1]", init, result({ result: "ok" })]);
    expect(s).toMatchObject({ found: true, resultText: "ok", ignoredLines: 3 });
  });

  it("no result message: protocol failure, marker says what arrived", () => {
    const s = parseQwenStreamJson([init, assistant([{ type: "thinking", thinking: "..." }])]);
    const r = decideQwenResult(s, { exitCode: null, timedOut: true, stderrLastLines: ["Operation cancelled."] }, null);
    expect(r.protocolValid).toBe(false);
    expect(r.protocolFailureMarker).toMatch(/killed at the agent timeout/);
    expect(r.protocolFailureMarker).toMatch(/Operation cancelled/);
  });

  it("stopped by the engine on a failed attempt: a definite failure with the HTTP status", () => {
    const r = decideQwenResult(parseQwenStreamJson([init]), { exitCode: 130, timedOut: false, stderrLastLines: [] }, { attempt: 1, status: 503 });
    expect(r).toMatchObject({ protocolValid: true, source: "qwen-debug-log", status: "failed" });
    expect(r.modelError).toMatch(/HTTP 503/);
  });

  it("reasoning-only and tool-call-as-text answers are model errors", () => {
    const thinking = parseQwenStreamJson([init, assistant([{ type: "thinking", thinking: "..." }]), result({ result: "" })]);
    expect(decideQwenResult(thinking, proc, null).modelError).toMatch(/reasoning but no content/);
    const asText = parseQwenStreamJson([init, result({ result: "<tool_call>\n<function=run_shell_command>" })]);
    expect(decideQwenResult(asText, proc, null).modelError).toMatch(/tool call as text/);
  });
});

describe("Qwen Code debug log: failed attempts", () => {
  it("finds the attempts Qwen Code's retry loop logs", () => {
    const log = [
      "2026-11-24T03:43:50.515Z [ERROR] [RETRY] Attempt 1 failed with status 500. Retrying with backoff in 2s... {",
      "  status: 500",
      "2026-11-24T03:43:52.127Z [ERROR] [RETRY] Attempt 2 failed. Retrying with backoff...",
    ].join("\n");
    expect(failedAttemptsIn(log)).toEqual([
      { attempt: 1, status: 500 },
      { attempt: 2, status: null },
    ]);
    expect(failedAttemptsIn("[DEBUG] [SKILL_MANAGER] Listed 16 unique skills")).toEqual([]);
    expect(failedAttemptsIn("2026-11-24T03:43:50.515Z [WARN] [QWEN_CODE_CHAT] Rate limit retry scheduled {")).toEqual([{ attempt: 1, status: 429 }]);
  });
});

describe("Qwen Code messages → trajectory", () => {
  it("maps thinking, text, tool_use, tool_result; API error text becomes model_error", () => {
    const evs = [
      ...qwenMessageToTrajectory(JSON.parse(assistant([{ type: "thinking", thinking: "t" }, { type: "tool_use", id: "c1", name: "edit", input: { a: 1 } }]))),
      ...qwenMessageToTrajectory(JSON.parse(line({ type: "user", message: { content: [{ type: "tool_result", tool_use_id: "c1", is_error: true, content: [{ type: "text", text: "no such file" }] }] } }))),
      ...qwenMessageToTrajectory(JSON.parse(assistant([{ type: "text", text: "[API Error: 500 boom]" }]))),
      ...qwenMessageToTrajectory(JSON.parse(init)),
    ];
    expect(evs).toEqual([
      { kind: "reasoning", text: "t" },
      { kind: "tool_call", tool: "edit", args: { a: 1 }, call_id: "c1", tokens: { prompt: 10, completion: 5 } },
      { kind: "tool_result", call_id: "c1", text: "no such file", is_error: true },
      { kind: "model_error", text: "[API Error: 500 boom]", tokens: { prompt: 10, completion: 5 } },
    ]);
  });
});

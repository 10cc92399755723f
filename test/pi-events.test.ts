// parsePiEvents over real Pi 0.73.1 `--mode json` streams (captured against a loopback mock)
// and hand-made edge cases. Pure: no process, no socket.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createPiEventAccumulator, parsePiEvents } from "../src/engines/pi-events.ts";
import { decidePiResult } from "../src/engines/pi.ts";
import { piEventToTrajectory } from "../src/trajectory/from-pi.ts";

const lines = (file: string) => readFileSync(new URL(file, import.meta.url), "utf8").split("\n");

const assistant = (content: unknown[], stopReason: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: "message_end", message: { role: "assistant", content, stopReason, usage: { input: 7, output: 3 }, ...extra } });
const agentEnd = (messages: unknown[]) => JSON.stringify({ type: "agent_end", messages });
const proc = { exitCode: 0, timedOut: false, stderrLastLines: [] };

describe("parsePiEvents", () => {
  it("normal run: final text of the last assistant message, stop", () => {
    const s = parsePiEvents([
      JSON.stringify({ type: "session", version: 3 }),
      JSON.stringify({ type: "agent_start" }),
      assistant([{ type: "thinking", thinking: "hmm" }, { type: "toolCall", id: "c1", name: "bash", arguments: { command: "ls" } }], "toolUse"),
      JSON.stringify({ type: "message_update", message: { role: "assistant", content: [{ type: "text", text: "partial" }] } }),
      assistant([{ type: "text", text: "Done." }], "stop"),
      agentEnd([
        { role: "user", content: [{ type: "text", text: "do it" }] },
        { role: "assistant", content: [{ type: "text", text: "Done." }], stopReason: "stop" },
      ]),
    ]);
    expect(s).toMatchObject({ found: true, finalText: "Done.", stopReason: "stop", errorMessage: null, agentEnds: 1, toolCalls: 1, assistantMessages: 2 });
    expect(s.usage).toEqual({ input: 14, output: 6 });
    expect(decidePiResult(s, proc)).toMatchObject({ protocolValid: true, source: "pi-events", status: "completed", summary: "Done.", modelError: null });
  });

  it('stopReason "error" (real Pi stream, HTTP 500): found, with the error message, decided as failed', () => {
    const s = parsePiEvents(lines("./data/pi-error-stream.jsonl"));
    expect(s).toMatchObject({ found: true, stopReason: "error", errorMessage: "500 boom", finalText: null, agentEnds: 1 });
    expect(decidePiResult(s, proc)).toMatchObject({ protocolValid: true, status: "failed", modelError: "500 boom" });
  });

  it("garbage, blank and non-object lines are ignored, not fatal", () => {
    const s = parsePiEvents(["", "   ", "npm WARN something", "{broken json", "[1,2]", "null", '{"no":"type"}', assistant([{ type: "text", text: "ok" }], "stop"), agentEnd([{ role: "assistant", content: [{ type: "text", text: "ok" }], stopReason: "stop" }])]);
    expect(s).toMatchObject({ found: true, finalText: "ok", stopReason: "stop" });
    expect(s.ignoredLines).toBe(5);
  });

  it("retries (real Pi stream): several agent_end events, the last one wins", () => {
    const s = parsePiEvents(lines("./data/pi-retry-stream.jsonl"));
    expect(s.agentEnds).toBe(2);
    expect(s.retries).toBe(1);
    expect(s).toMatchObject({ found: true, finalText: "All fixed.", stopReason: "stop", errorMessage: null });
    expect(s.ignoredLines).toBe(3);
  });

  it("an error after a successful attempt still counts (last agent_end is the error)", () => {
    const s = parsePiEvents([
      agentEnd([{ role: "assistant", content: [{ type: "text", text: "first" }], stopReason: "stop" }]),
      agentEnd([{ role: "assistant", content: [], stopReason: "error", errorMessage: "connection refused" }]),
    ]);
    expect(s).toMatchObject({ found: true, stopReason: "error", errorMessage: "connection refused", finalText: null });
  });

  it("no agent_end (agent killed): not found, last model state kept, protocol failure", () => {
    const s = parsePiEvents([assistant([], "error", { errorMessage: "socket hang up" })]);
    expect(s).toMatchObject({ found: false, stopReason: "error", errorMessage: "socket hang up" });
    const r = decidePiResult(s, { exitCode: null, timedOut: true, stderrLastLines: [] });
    expect(r.protocolValid).toBe(false);
    expect(r.modelError).toBe("socket hang up");
    expect(r.protocolFailureMarker).toMatch(/killed at the agent timeout/);
  });

  it("reasoning-only and tool-call-as-text replies that Pi ends 'normally' are model errors", () => {
    const thinkingOnly = parsePiEvents([agentEnd([{ role: "assistant", content: [{ type: "thinking", thinking: "..." }], stopReason: "length" }])]);
    expect(thinkingOnly.finalReasoningOnly).toBe(true);
    expect(decidePiResult(thinkingOnly, proc)).toMatchObject({ status: "failed", modelError: expect.stringMatching(/finish_reason "length"/) });
    const asText = parsePiEvents([agentEnd([{ role: "assistant", content: [{ type: "text", text: "<tool_call>\n<function=bash>" }], stopReason: "stop" }])]);
    expect(decidePiResult(asText, proc)).toMatchObject({ status: "failed", modelError: expect.stringMatching(/tool call as text/) });
  });

  it("the streaming accumulator skips message_update lines without parsing them", () => {
    const acc = createPiEventAccumulator();
    acc.push('{"type":"message_update", this is not even JSON but is skipped by its type tag "type":"message_update"');
    expect(acc.summary()).toMatchObject({ events: 1, ignoredLines: 0, found: false });
  });
});

describe("Pi events → trajectory", () => {
  it("maps message_end and tool_execution_end, nothing else", () => {
    const all = lines("./data/pi-retry-stream.jsonl")
      .filter((l) => l.startsWith("{"))
      .flatMap((l) => {
        try {
          const ev = JSON.parse(l);
          return ev && typeof ev.type === "string" ? piEventToTrajectory(ev) : [];
        } catch {
          return [];
        }
      });
    expect(all.map((e) => e.kind)).toEqual(["model_error", "reasoning", "tool_call", "tool_result", "assistant_text"]);
    expect(all[0]!.text).toBe("500 boom");
    expect(all[2]).toMatchObject({ tool: "bash", call_id: "call_1", args: { command: "echo fixed > fixed.txt && echo done" } });
    expect(all[3]).toMatchObject({ tool: "bash", call_id: "call_1", text: "done\n", is_error: false });
    expect(all[4]).toMatchObject({ text: "All fixed.", tokens: { prompt: 10, completion: 5 } });
  });
});

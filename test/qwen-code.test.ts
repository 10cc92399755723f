// The qwen-code engine end to end: real Qwen Code 0.24.4 under the project's Node 24, a
// per-run QWEN_HOME and system settings, the simulator behind the recording proxy, the
// fixture's tests as judge.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { qwenArgs, qwenCodeEngine } from "../src/engines/qwen-code.ts";
import { bwrapWorks, runEngineOnFixture } from "./helpers/engines.ts";

describe("qwen-code engine fixes fixtures (simulator scenario solve)", () => {
  for (const fixtureId of ["r1-string-slugify", "py-roman-subtractive", "js-cart-rounding"]) {
    it(fixtureId, async () => {
      const r = await runEngineOnFixture(qwenCodeEngine, fixtureId, "solve", { keep: fixtureId === "r1-string-slugify" });
      expect(r.outcome.started).toBe(true);
      // Qwen Code lingers after its result; the engine ends it 200 ms later (then no exit code of its own).
      if (r.outcome.stoppedAfterResult) expect(r.outcome.exitCode).toBeNull();
      else expect(r.outcome.exitCode).toBe(0);
      expect(r.outcome.result).toMatchObject({ protocolValid: true, source: "qwen-stream-json", status: "completed", modelError: null });
      expect(r.tests.passed).toBe(true);
      // Exactly the agent's two turns: no preconnect, no title request, no telemetry through the proxy.
      expect(r.requests.map((q) => q.status)).toEqual([200, 200]);
      expect(r.trajectory.map((e) => e.kind)).toEqual(["reasoning", "tool_call", "tool_result", "reasoning", "assistant_text", "final"]);
      expect(r.trajectory[1]!.tool).toBe("run_shell_command");
      expect(r.trajectory[2]).toMatchObject({ tool: "run_shell_command", call_id: r.trajectory[1]!.call_id, is_error: false });
      if (fixtureId === "r1-string-slugify") {
        const settings = JSON.parse(await readFile(path.join(r.runDir, "agent-home", "qwen-system-settings.json"), "utf8"));
        expect(settings.privacy.usageStatisticsEnabled).toBe(false);
        expect(settings.model.generationConfig).toMatchObject({ maxRetries: 0, samplingParams: { max_tokens: 16384 } });
        const text = JSON.stringify(settings);
        expect(text).not.toContain(r.proxyBaseUrl);
        expect(text).not.toContain(r.proxyToken);
        expect(qwenArgs("m", "prompt").join(" ")).not.toMatch(/http/);
      }
    });
  }
});

describe("qwen-code engine fails correctly on a broken model", () => {
  it("http-500: Qwen Code's ~77 s retry loop is cut after the first failed attempt, the error recorded", async () => {
    const r = await runEngineOnFixture(qwenCodeEngine, "r1-string-slugify", "http-500");
    expect(r.outcome.result).toMatchObject({ protocolValid: true, status: "failed", source: "qwen-debug-log" });
    expect(r.outcome.result.modelError).toMatch(/HTTP 500/);
    expect(r.outcome.timedOut).toBe(false);
    // maxRetries 0 in the settings: one HTTP request per Qwen Code attempt (it was 3-4).
    // Attempt 2 follows 1.5 s later; the debug-log watch stops Qwen Code before it, but a
    // heavily loaded machine may let it through: never more.
    expect(r.requests.length).toBeGreaterThanOrEqual(1);
    expect(r.requests.length).toBeLessThanOrEqual(2);
    expect(r.requests.every((q) => q.status === 500)).toBe(true);
    expect(r.tests.passed).toBe(false);
    expect(r.trajectory.length).toBe(r.requests.length);
    expect(r.trajectory.every((e) => e.kind === "model_error" && /HTTP 500/.test(e.text ?? ""))).toBe(true);
    expect(r.wallMs).toBeLessThan(40_000);
  });

  it("reasoning-only: Qwen Code ends with subtype success and an empty result; recorded as a model error", async () => {
    const r = await runEngineOnFixture(qwenCodeEngine, "py-roman-subtractive", "reasoning-only", {
      env: { CTO_HARNESS_AGENT_MAX_TOKENS: "2048" }, // the simulator fills the whole budget with reasoning
    });
    expect(r.outcome.result.status).toBe("failed");
    expect(r.outcome.result.modelError).toMatch(/reasoning but no content/);
    expect(r.requests.every((q) => q.finish_reason === "length" && q.completion_tokens === 2048)).toBe(true);
    expect(r.tests.passed).toBe(false);
    expect(r.trajectory.at(-1)!.kind).toBe("model_error");
  });

  it("tool-call-as-text: Qwen Code takes the text as its answer; recorded as a model error", async () => {
    const r = await runEngineOnFixture(qwenCodeEngine, "r1-string-slugify", "tool-call-as-text");
    expect(r.outcome.result.status).toBe("failed");
    expect(r.outcome.result.modelError).toMatch(/tool call as text/);
    expect(r.tests.passed).toBe(false);
    expect(r.trajectory.at(-1)!.kind).toBe("model_error");
  });
});

describe("qwen-code engine inside the bubblewrap sandbox", async () => {
  const ok = await bwrapWorks();
  it.skipIf(!ok)("fixes r1-string-slugify with only the binds it declares", async () => {
    const r = await runEngineOnFixture(qwenCodeEngine, "r1-string-slugify", "solve", { isolation: "bwrap" });
    expect(r.outcome.result.status).toBe("completed");
    expect(r.tests.passed).toBe(true);
    expect(r.requests.map((q) => q.status)).toEqual([200, 200]);
  });
});

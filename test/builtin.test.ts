// The builtin engine end to end: the real agent process, the simulator over loopback,
// the recording proxy, the fixture's own tests as judge.
import { describe, expect, it } from "vitest";
import { builtinEngine } from "../src/engines/builtin.ts";
import { bwrapWorks, runEngineOnFixture } from "./helpers/engines.ts";

describe("builtin engine fixes fixtures (simulator scenario solve)", () => {
  for (const fixtureId of ["r1-string-slugify", "py-roman-subtractive", "js-cart-rounding"]) {
    it(fixtureId, async () => {
      const r = await runEngineOnFixture(builtinEngine, fixtureId, "solve");
      expect(r.outcome.started).toBe(true);
      expect(r.outcome.exitCode).toBe(0);
      expect(r.outcome.result).toMatchObject({ protocolValid: true, source: "stdout-line", status: "completed", modelError: null });
      expect(r.tests.passed).toBe(true);
      // Every model request went through the proxy and was answered.
      expect(r.requests.length).toBe(2);
      expect(r.requests.every((q) => q.status === 200 && q.model === "qwen3.6-35b-a3b")).toBe(true);
      const kinds = r.trajectory.map((e) => e.kind);
      expect(kinds).toEqual(["reasoning", "tool_call", "tool_result", "reasoning", "final"]);
      expect(r.trajectory.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(r.trajectory.every((e) => e.engine === "builtin")).toBe(true);
      const call = r.trajectory[1]!;
      expect(call.tool).toBe("bash");
      expect(r.trajectory[2]).toMatchObject({ kind: "tool_result", call_id: call.call_id, is_error: false });
      // Reasoning is kept apart from the answer.
      expect(r.trajectory[4]!.text).toBe(r.outcome.result.summary);
    });
  }
});

describe("builtin engine fails correctly on a broken model", () => {
  it("reasoning-only: finish_reason length with no content is a model error", async () => {
    const r = await runEngineOnFixture(builtinEngine, "r1-string-slugify", "reasoning-only");
    expect(r.outcome.exitCode).toBe(1);
    expect(r.outcome.result.status).toBe("failed");
    expect(r.outcome.result.modelError).toMatch(/finish_reason "length" with no content and no tool call/);
    expect(r.tests.passed).toBe(false);
    expect(r.trajectory.map((e) => e.kind)).toEqual(["reasoning", "model_error"]);
  });

  it("tool-call-as-text: named as a tool-call parser problem, not taken as the answer", async () => {
    const r = await runEngineOnFixture(builtinEngine, "r1-string-slugify", "tool-call-as-text");
    expect(r.outcome.exitCode).toBe(1);
    expect(r.outcome.result.status).toBe("failed");
    expect(r.outcome.result.modelError).toMatch(/tool call as text/);
    expect(r.tests.passed).toBe(false);
    expect(r.trajectory.at(-1)!.kind).toBe("model_error");
  });

  it("http-500: one request, no retry storm, the error recorded", async () => {
    const r = await runEngineOnFixture(builtinEngine, "py-roman-subtractive", "http-500");
    expect(r.outcome.exitCode).toBe(1);
    expect(r.outcome.result.modelError).toMatch(/HTTP 500/);
    expect(r.requests.map((q) => q.status)).toEqual([500]);
    expect(r.tests.passed).toBe(false);
    expect(r.trajectory.map((e) => e.kind)).toEqual(["model_error"]);
  });
});

describe("builtin engine inside the bubblewrap sandbox", async () => {
  const ok = await bwrapWorks();
  it.skipIf(!ok)("fixes r1-string-slugify with only the binds it declares", async () => {
    const r = await runEngineOnFixture(builtinEngine, "r1-string-slugify", "solve", { isolation: "bwrap" });
    expect(r.outcome.result.status).toBe("completed");
    expect(r.tests.passed).toBe(true);
    expect(r.requests.map((q) => q.status)).toEqual([200, 200]);
  });
});

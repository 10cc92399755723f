// The pi engine end to end: the real Pi coding agent (0.73.1) under the project's Node 24,
// hermetic flags, provider injected by the static extension, the simulator behind the
// recording proxy, the fixture's tests as judge.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { piArgs, piEngine } from "../src/engines/pi.ts";
import { bwrapWorks, runEngineOnFixture } from "./helpers/engines.ts";

describe("pi engine fixes fixtures (simulator scenario solve)", () => {
  for (const fixtureId of ["r1-string-slugify", "py-roman-subtractive", "js-csv-quoted-fields"]) {
    it(fixtureId, async () => {
      const r = await runEngineOnFixture(piEngine, fixtureId, "solve", { keep: fixtureId === "r1-string-slugify" });
      expect(r.outcome.started).toBe(true);
      if (!r.outcome.stoppedAfterResult) expect(r.outcome.exitCode).toBe(0);
      expect(r.outcome.result).toMatchObject({ protocolValid: true, source: "pi-events", status: "completed", modelError: null });
      expect(r.tests.passed).toBe(true);
      expect(r.requests.map((q) => q.status)).toEqual([200, 200]);
      const kinds = r.trajectory.map((e) => e.kind);
      expect(kinds).toEqual(["reasoning", "tool_call", "tool_result", "reasoning", "assistant_text", "final"]);
      expect(r.trajectory.every((e) => e.engine === "pi")).toBe(true);
      expect(r.trajectory[1]!.call_id).toBe(r.trajectory[2]!.call_id);
      if (fixtureId === "r1-string-slugify") {
        // Hermetic: the per-run agent dir holds only what we wrote (and Pi's empty auth.json),
        // and neither the proxy URL nor its token was written into any file we control.
        const agentDir = path.join(r.runDir, "agent-home", ".pi-agent");
        expect((await readdir(agentDir)).sort()).toEqual(["auth.json", "settings.json"]);
        const settings = JSON.parse(await readFile(path.join(agentDir, "settings.json"), "utf8"));
        expect(settings.retry.enabled).toBe(false);
        for (const f of ["auth.json", "settings.json"]) {
          const text = await readFile(path.join(agentDir, f), "utf8");
          expect(text).not.toContain(r.proxyBaseUrl);
          expect(text).not.toContain(r.proxyToken);
        }
        expect(piArgs("m").join(" ")).not.toMatch(/http/);
      }
    });
  }
});

describe("pi engine fails correctly on a broken model", () => {
  it("http-500: Pi exits 0, but the run is failed with the model error; one request (retries off)", async () => {
    const r = await runEngineOnFixture(piEngine, "r1-string-slugify", "http-500");
    if (!r.outcome.stoppedAfterResult) expect(r.outcome.exitCode).toBe(0); // Pi's own exit code hides the failure...
    expect(r.outcome.result).toMatchObject({ protocolValid: true, status: "failed" }); // ...the event stream does not
    expect(r.outcome.result.modelError).toMatch(/500/);
    expect(r.requests.map((q) => q.status)).toEqual([500]);
    expect(r.tests.passed).toBe(false);
    expect(r.trajectory.map((e) => e.kind)).toEqual(["model_error"]);
    expect(r.wallMs).toBeLessThan(30_000);
  });

  it("reasoning-only: Pi ends normally with an empty answer; recorded as a model error", async () => {
    const r = await runEngineOnFixture(piEngine, "py-roman-subtractive", "reasoning-only", {
      // The simulator fills the whole budget with reasoning, and Pi re-serialises the growing
      // partial message on every delta (quadratic); a small budget keeps the test fast.
      env: { CTO_HARNESS_AGENT_MAX_TOKENS: "2048" },
    });
    expect(r.requests.map((q) => q.completion_tokens)).toEqual([2048]);
    expect(r.outcome.result.status).toBe("failed");
    expect(r.outcome.result.modelError).toMatch(/no content and no tool call/);
    expect(r.tests.passed).toBe(false);
    expect(r.trajectory.map((e) => e.kind)).toEqual(["reasoning", "model_error"]);
  });

  it("tool-call-as-text: Pi takes the text as its answer; recorded as a model error", async () => {
    const r = await runEngineOnFixture(piEngine, "r1-string-slugify", "tool-call-as-text");
    expect(r.outcome.result.status).toBe("failed");
    expect(r.outcome.result.modelError).toMatch(/tool call as text/);
    expect(r.tests.passed).toBe(false);
    expect(r.trajectory.at(-1)!.kind).toBe("model_error");
  });
});

describe("pi engine inside the bubblewrap sandbox", async () => {
  const ok = await bwrapWorks();
  it.skipIf(!ok)("fixes r1-string-slugify with only the binds it declares", async () => {
    const r = await runEngineOnFixture(piEngine, "r1-string-slugify", "solve", { isolation: "bwrap" });
    expect(r.outcome.result.status).toBe("completed");
    expect(r.tests.passed).toBe(true);
    expect(r.requests.map((q) => q.status)).toEqual([200, 200]);
  });
});

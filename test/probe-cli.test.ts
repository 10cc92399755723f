// `cto-harness probe` as the CLI runs it (in-process: probeFromCli), with stdout/stderr
// captured: exit codes, one JSON document, variable names but never values.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { probeFromCli } from "../src/cli/commands/probe.ts";
import { startSimulator } from "../src/sim/server.ts";

let out = "";
let err = "";
beforeEach(() => {
  out = "";
  err = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((err += String(chunk)), true));
});
afterEach(() => vi.restoreAllMocks());

const base = { model: "qwen3.6-35b-a3b", budget: 1024 };

describe("cto-harness probe", () => {
  it("qwen-local without its URL variable: exit 2, names the variable", async () => {
    const code = await probeFromCli({ ...base, provider: "qwen-local", json: true }, {});
    expect(code).toBe(2);
    expect(err).toContain("CTO_HARNESS_CASE_LOCAL_BASE_URL");
    expect(JSON.parse(out)).toMatchObject({ verdict: "block", failure_reason: "provider local config unavailable", missing_variable: "CTO_HARNESS_CASE_LOCAL_BASE_URL" });
  });

  it("qwen-local from the environment: exit 0 on a healthy endpoint, one JSON document, no URL or key anywhere", async () => {
    const sim = await startSimulator({ flavour: "vllm-0.16", scenario: "V10", apiKey: "canary-key-77" });
    try {
      const url = `${sim.baseUrl}?token=canary-tok`;
      const env = { CTO_HARNESS_CASE_LOCAL_BASE_URL: url, CTO_HARNESS_CASE_LOCAL_API_KEY: "canary-key-77" };
      const code = await probeFromCli({ ...base, provider: "qwen-local", json: true }, env);
      expect(code).toBe(0);
      const doc = JSON.parse(out);
      expect(doc).toMatchObject({ provider: "qwen-local", verdict: "allow", tools: { classification: "TOOL_CALLS_OK" } });
      for (const s of ["canary-tok", "canary-key-77", `127.0.0.1:${sim.port}`]) {
        expect(out).not.toContain(s);
        expect(err).not.toContain(s);
      }
      expect(err).toMatch(/timings: .*verdict \d+ ms/);
    } finally {
      await sim.close();
    }
  });

  it("sim provider: V2 at budget 32 exits 2 with the advice on stderr", async () => {
    const code = await probeFromCli({ ...base, provider: "sim", scenario: "V2", budget: 32 }, {});
    expect(code).toBe(2);
    expect(out).toBe("");
    expect(err).toMatch(/REASONING_ONLY_TRUNCATED — block \(provider response shape unavailable\)/);
    expect(err).toMatch(/enable_thinking=false/);
  });

  it("sim provider: E1b with a foreign model name warns and exits 0", async () => {
    const code = await probeFromCli({ ...base, provider: "sim", flavour: "llamacpp", scenario: "E1b", model: "foo", json: true }, {});
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ classification: "MODEL_NAME_IGNORED", verdict: "warn" });
  });
});

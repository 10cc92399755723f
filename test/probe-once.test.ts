// A loop probes an endpoint once, not once per run: runs share a ProbeCache, which
// re-probes only when the server's fingerprint changes or a run saw a shape error.
import { afterAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { runOnce } from "../src/run/lifecycle.ts";
import { ProbeCache } from "../src/provider/probe-cache.ts";
import { startSimulator } from "../src/sim/server.ts";
import { reportJsonSchema } from "../src/evidence/write-json-schema.ts";
import { admissionFile, baseEnv, tempDir } from "./helpers/run-env.ts";

describe("probe once per endpoint", async () => {
  const sim = await startSimulator({ scenario: "solve" });
  afterAll(() => sim.close());

  it("four runs against one endpoint cost one probe", async () => {
    const dir = tempDir("probe-once");
    const env = baseEnv({
      CTO_HARNESS_CASE_LOCAL_BASE_URL: sim.baseUrl,
      CTO_HARNESS_CASE_MODEL_ADMISSION_FILE: admissionFile(dir, ["qwen-local/qwen3.6-35b-a3b"]),
    });
    const probeCache = new ProbeCache();
    const runsDir = tempDir("runs");
    for (let i = 0; i < 4; i++) {
      const { report } = await runOnce({
        fixture: "r1-string-slugify",
        engine: "builtin",
        provider: "qwen-local",
        model: "qwen3.6-35b-a3b",
        runsDir,
        isolation: "none",
        budget: 1024,
        env,
        probeCache,
      });
      expect(report.status, report.failure_detail ?? "").toBe("pass");
      expect(report.probe?.classification).toMatch(/^OK_/);
      expect(report.endpoint_kind).toBe("simulated");
    }
    // The probe's tool check is the only request offering `get_weather`.
    const toolProbes = sim.requests.filter((r) => r.tools.includes("get_weather"));
    expect(toolProbes).toHaveLength(1);
  });
});

describe("published JSON Schema", () => {
  it("docs/report.schema.json is what the zod schema generates (run `npm run schema`)", () => {
    const committed = readFileSync(new URL("../docs/report.schema.json", import.meta.url), "utf8");
    expect(committed).toBe(reportJsonSchema());
  });
});

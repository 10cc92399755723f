// `run` with the real agents against a real server (the tiny llama-server, or the user's own:
// test/real/target.ts). The random model cannot fix anything, so there every run must end in a
// judged fail or a clearly named model error; a real model may pass. Never a harness error,
// never a hang, and `verify` accepts every bundle (hashes, schema, no leak of the URL or key).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { verifyBundle } from "../../src/evidence/verify.ts";
import type { EngineName } from "../../src/engines/types.ts";
import { runOnce } from "../../src/run/lifecycle.ts";
import { admissionFile, baseEnv, tempDir } from "../helpers/run-env.ts";
import { realTarget, type RealTarget } from "./target.ts";

/** Failures that name what the model did (not a harness error). */
const NAMED_MODEL_FAILURES = ["tests failed", "tests did not run", "held-out tests failed", "case agent result protocol failed", "no model traffic", "case process timed out"];

let target: RealTarget;
let env: NodeJS.ProcessEnv;
let runsDir: string;

beforeAll(async () => {
  target = await realTarget();
  const dir = tempDir("real-run");
  runsDir = `${dir}/runs`;
  env = baseEnv({
    HOME: dir,
    CTO_HARNESS_CASE_LOCAL_BASE_URL: target.baseUrl,
    ...(target.apiKey ? { CTO_HARNESS_CASE_LOCAL_API_KEY: target.apiKey } : {}),
    CTO_HARNESS_CASE_MODEL_ADMISSION_FILE: admissionFile(dir, [`{provider: qwen-local, model: ${JSON.stringify(target.model)}}`]),
    // A random model never stops by itself: short answers keep each run to seconds.
    ...(target.kind === "tiny" ? { CTO_HARNESS_AGENT_MAX_TOKENS: "128" } : {}),
  });
});

describe("run against a real server", () => {
  for (const engine of ["builtin", "pi", "qwen-code"] as EngineName[]) {
    it(`${engine}: judged, never a harness error; verify passes`, { timeout: 900_000 }, async () => {
      const { report, runDir } = await runOnce({
        fixture: "r1-string-slugify",
        engine,
        provider: "qwen-local",
        model: target.model,
        isolation: "bwrap",
        // The tiny model's long random answers end in llama.cpp's parse failure (probe-real.test.ts):
        // a short probe budget lets the gate pass so the agents meet the server.
        budget: target.kind === "tiny" ? 48 : 1024,
        runsDir,
        agentTimeoutSec: target.kind === "tiny" ? 240 : undefined,
        env,
      });
      const summary = JSON.stringify({ status: report.status, reason: report.failure_reason, detail: report.failure_detail ?? null, probe: report.probe?.classification });
      expect(report.endpoint_kind).toBe("real");
      expect(report.status, summary).not.toBe("error");
      expect(report.status, summary).toEqual(target.canPass ? expect.stringMatching(/^(pass|fail)$/) : "fail");
      if (report.status === "fail") expect(NAMED_MODEL_FAILURES, summary).toContain(report.failure_reason);
      if (report.failure_reason === "no model traffic") {
        // Then the marker must say whether the server refused the requests or the agent never came.
        expect(readFileSync(join(runDir, "backend/no-model-traffic.txt"), "utf8")).toMatch(/failed at the model server|OPENAI_BASE_URL/);
      }
      expect(report.case_process_started).toBe(true);
      expect(report.model_traffic.requests).toBeGreaterThan(0);
      expect(report.model_traffic.fallback_detected).toBe(false);
      expect(report.model_traffic.models_seen).toEqual([target.model]);
      const verified = await verifyBundle(runDir, { secrets: [target.baseUrl, ...(target.apiKey ? [target.apiKey] : [])] });
      expect(verified.problems).toEqual([]);
      expect(verified.ok).toBe(true);
      expect(verified.leak_scan).toBe("done");
      expect(verified.leak_findings).toEqual([]);
    });
  }
});

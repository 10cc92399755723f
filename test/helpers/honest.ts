// Honest engines through the whole pipeline and the fresh-tree judge: each must pass every
// built-in fixture on the simulator, with no tampering finding and every expected test run.
// (A judge that flags honest work is as useless as one that passes cheats.)
import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { builtinFixtureIds } from "../../src/fixtures/load.ts";
import { runOnce } from "../../src/run/lifecycle.ts";
import type { EngineName } from "../../src/engines/types.ts";
import { baseEnv, tempDir } from "./run-env.ts";

export async function honestEngineSuite(engine: EngineName): Promise<void> {
  const runsDir = tempDir(`honest-${engine}`);
  afterAll(() => rmSync(runsDir, { recursive: true, force: true }));
  const ids = await builtinFixtureIds();
  describe(`${engine} passes every built-in fixture through the fresh-tree judge`, () => {
    for (const fixture of ids) {
      it(fixture, { timeout: 180_000 }, async () => {
        const { report } = await runOnce({
          fixture,
          engine,
          provider: "sim",
          model: "qwen3.6-35b-a3b",
          isolation: "bwrap",
          budget: 1024,
          runsDir,
          env: baseEnv(),
        });
        expect({ status: report.status, reason: report.failure_reason, detail: report.failure_detail ?? null }).toEqual({ status: "pass", reason: null, detail: null });
        expect(report.judge?.findings).toEqual([]);
        expect(report.judge?.tests?.count_verified).toBe(true);
        expect(report.judge?.tests?.missing).toEqual([]);
        expect(report.judge?.tests?.expected_passed).toBe(report.judge?.tests?.expected);
      });
    }
  });
}

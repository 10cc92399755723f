// Re-judging: the check that catches a consistently rewritten bundle, which hashes cannot.
import { readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runOnce } from "../src/run/lifecycle.ts";
import { verifyBundle } from "../src/evidence/verify.ts";
import { rejudgeBundle } from "../src/judge/rejudge.ts";
import { writeManifest } from "../src/evidence/manifest.ts";
import { baseEnv, tempDir } from "./helpers/run-env.ts";

const common = { fixture: "r1-string-slugify", provider: "sim", model: "qwen3.6-35b-a3b", isolation: "none" as const, budget: 1024 };

describe("verify --rejudge", () => {
  it("confirms a real pass: the recorded patch makes the fixture's tests pass again", async () => {
    const { report, runDir } = await runOnce({ ...common, engine: "fake-oracle", runsDir: tempDir("runs"), env: baseEnv() });
    expect(report.status).toBe("pass");
    const r = await rejudgeBundle(runDir, report);
    expect(r).toMatchObject({ ok: true, tests_passed: true });
  });

  it("catches a pass whose patch was swapped consistently (every hash recomputed)", async () => {
    const { runDir } = await runOnce({ ...common, engine: "fake-oracle", runsDir: tempDir("runs"), env: baseEnv() });
    // The forger empties the patch and makes every file agree with that.
    writeFileSync(join(runDir, "workspace.patch"), "");
    writeFileSync(join(runDir, "changed-files.json"), "[]");
    const reportPath = join(runDir, "report.json");
    const report = JSON.parse(readFileSync(reportPath, "utf8"));
    report.patch = { path: "workspace.patch", bytes: 0, sha256: createHash("sha256").update("").digest("hex") };
    report.changed_files = [];
    writeFileSync(reportPath, JSON.stringify(report));
    await writeManifest(runDir);
    const v = await verifyBundle(runDir);
    expect(v.ok, v.problems.join("; ")).toBe(true); // integrity alone cannot see it
    const r = await rejudgeBundle(runDir, v.report!);
    expect(r.ok).toBe(false);
    expect(r.tests_passed).toBe(false);
    expect(r.problems.join("\n")).toContain("a pass claim whose patch does not make the tests pass");
  });
});

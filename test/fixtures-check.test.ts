import { execFileSync } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RULE_NOOP, RULE_ORACLE, checkFixture } from "../src/judge/fixture-check.ts";
import { BUILTIN_FIXTURES_DIR, listBuiltinFixtures, loadFixture } from "../src/fixtures/load.ts";
import { solutionScript } from "../src/fixtures/solution.ts";
import { solutionFiles } from "../src/workspace/solution-files.ts";
import { prepareWorkspace, restorePristineTests, runTests } from "../src/workspace/workspace.ts";
import { sandboxed } from "./helpers/sandboxed.ts";
import { runCollected } from "../src/judge/collectors.ts";
import type { Fixture } from "../src/fixtures/types.ts";

async function tmp(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `cto-check-${prefix}-`));
}

/** A copy of a built-in fixture, to break on purpose. */
async function copyOf(id: string): Promise<string> {
  const dir = path.join(await tmp("copy"), id);
  await cp(path.join(BUILTIN_FIXTURES_DIR, id), dir, { recursive: true });
  return dir;
}

describe("checkFixture over the built-in fixtures", () => {
  it("every built-in fixture: oracle passes, noop fails", async () => {
    const all = await listBuiltinFixtures();
    const box = await sandboxed();
    const results = [];
    for (let i = 0; i < all.length; i += 3) {
      results.push(...(await Promise.all(all.slice(i, i + 3).map((f) => checkFixture(f, box)))));
    }
    for (const r of results) {
      expect(r, r.id).toMatchObject({ oracle_passed: true, noop_failed: true, ok: true, problems: [] });
    }
    expect(results.length).toBe(all.length);
  });
});

describe("checkFixture on broken fixtures", () => {
  it("a solution that does not fix the bug breaks the oracle rule", async () => {
    const dir = await copyOf("r1-string-slugify");
    // "Solution" identical to the buggy code (its impossible variant, judged by the same oracle, is left out).
    await rm(path.join(dir, "impossible"), { recursive: true, force: true });
    await cp(path.join(dir, "repo", "src", "slugify.js"), path.join(dir, "solution", "src", "slugify.js"));
    const r = await checkFixture(await loadFixture(dir), await sandboxed());
    expect(r.ok).toBe(false);
    expect(r.oracle_passed).toBe(false);
    expect(r.noop_failed).toBe(true);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toContain(RULE_ORACLE);
  });

  it("tests that already pass without a change break the noop rule", async () => {
    const dir = await copyOf("py-roman-subtractive");
    // The "bug" is already fixed in repo/.
    await cp(path.join(dir, "solution", "romans.py"), path.join(dir, "repo", "romans.py"));
    const r = await checkFixture(await loadFixture(dir), await sandboxed());
    expect(r).toMatchObject({ ok: false, oracle_passed: true, noop_failed: false });
    expect(r.problems).toEqual([`${RULE_NOOP} (they passed unchanged)`]);
  });

  it("a deletes entry that is not in repo/ is named", async () => {
    const dir = await copyOf("py-stale-module-shadow");
    const yamlPath = path.join(dir, "fixture.yaml");
    await writeFile(yamlPath, (await readFile(yamlPath, "utf8")).replace("- wordstats/tokenize", "- wordstats/tokenize\n    - no/such/file.py"));
    const r = await checkFixture(await loadFixture(dir), await sandboxed());
    expect(r.ok).toBe(false);
    expect(r.problems.join("\n")).toMatch(/deletes: .*'no\/such\/file\.py'/);
  });
});

/**
 * Judged as the judge does: the pristine (and held-out) tests in place — for a Harbor task in
 * Harbor's view in the sandbox (/tests, its reward file), since its tests name /app and /tests.
 */
async function judged(fixture: Fixture, ws: string) {
  const logs = { stdoutFile: path.join(ws, "..", "o"), stderrFile: path.join(ws, "..", "e") };
  if (fixture.harbor) return (await runCollected(fixture, ws, { ...logs, isolation: await sandboxed() })).tests;
  await restorePristineTests(fixture, ws, true);
  return runTests(fixture, ws, logs);
}

describe("reference solutions in agent-usable forms", () => {
  it("solutionScript is one POSIX sh script that fixes every built-in fixture", async () => {
    for (const fixture of await listBuiltinFixtures()) {
      const ws = path.join(await tmp("script"), "ws");
      await prepareWorkspace(fixture, ws);
      const script = await solutionScript(fixture);
      execFileSync("sh", ["-c", script], { cwd: ws, env: { PATH: process.env.PATH } });
      const t = await judged(fixture, ws);
      expect(t.passed, fixture.id).toBe(true);
      if (fixture.solution.kind === "overlay" && fixture.solution.deletes.length === 0) expect(script).toMatch(/\| base64 -d > '/);
    }
  });

  it("solutionFiles writes/deletes fix every built-in fixture when applied by plain file operations", async () => {
    for (const fixture of await listBuiltinFixtures()) {
      const ws = path.join(await tmp("files"), "ws");
      await prepareWorkspace(fixture, ws);
      const { writes, deletes } = await solutionFiles(fixture, await sandboxed());
      expect(writes.length + deletes.length, fixture.id).toBeGreaterThan(0);
      for (const d of deletes) await rm(path.join(ws, d));
      for (const w of writes) {
        await mkdir(path.dirname(path.join(ws, w.path)), { recursive: true });
        await writeFile(path.join(ws, w.path), w.content);
      }
      const t = await judged(fixture, ws);
      expect(t.passed, fixture.id).toBe(true);
    }
  });

  it("solutionFiles of the deleting fixture lists the files, and of the Harbor fixture is computed from solve.sh", async () => {
    const shadow = await solutionFiles(await loadFixture("py-stale-module-shadow"), await sandboxed());
    expect(shadow).toEqual({ writes: [], deletes: ["wordstats/tokenize/__init__.py", "wordstats/tokenize/rules.py"] });
    const harbor = await solutionFiles(await loadFixture("harbor-py-version-sort"), await sandboxed());
    expect(harbor.deletes).toEqual([]);
    expect(harbor.writes.map((w) => w.path)).toEqual(["versions.py"]);
    expect(harbor.writes[0]!.content).toContain("int(major)");
  });

  it("a bash solve.sh runs under bash even when the caller uses sh", async () => {
    const script = await solutionScript(await loadFixture("harbor-py-version-sort"));
    expect(script.startsWith("#!/bin/sh\n")).toBe(true);
    expect(script).toMatch(/bash -s <<'CTO_HARNESS_SOLVE_[0-9a-f]+'/);
  });
});

import { spawnSync } from "node:child_process";
import { cp, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BUILTIN_FIXTURES_DIR } from "../src/fixtures/load.ts";

const BIN = path.resolve("bin/cto-harness");

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(BIN, args, { encoding: "utf8", env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("cto-harness fixtures", () => {
  it("list --json prints one JSON document describing every built-in", () => {
    const r = cli(["fixtures", "list", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { fixtures: { id: string; title: string; language: string; digest: string; digest_prefix: string; timeouts: { agent_sec: number; tests_sec: number } }[] };
    expect(doc.fixtures.length).toBeGreaterThanOrEqual(9);
    const slug = doc.fixtures.find((f) => f.id === "r1-string-slugify")!;
    expect(slug).toMatchObject({ language: "javascript", timeouts: { agent_sec: 600, tests_sec: 30 } });
    expect(slug.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(slug.digest.startsWith(slug.digest_prefix)).toBe(true);
  });

  it("list without --json prints a table on stderr and nothing on stdout", () => {
    const r = cli(["fixtures", "list"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/r1-string-slugify\s+javascript\s+[0-9a-f]{12}/);
  });

  it("check of one good and one broken fixture: exit 1 naming the broken rule", async () => {
    const broken = path.join(await mkdtemp(path.join(tmpdir(), "cto-cli-broken-")), "slug");
    await cp(path.join(BUILTIN_FIXTURES_DIR, "r1-string-slugify"), broken, { recursive: true });
    await cp(path.join(broken, "repo", "src", "slugify.js"), path.join(broken, "solution", "src", "slugify.js"));
    const r = cli(["fixtures", "check", "js-lru-cache-recency", broken, "--json"]);
    expect(r.code, r.stderr).toBe(1);
    const doc = JSON.parse(r.stdout) as { ok: boolean; fixtures: { id: string; ok: boolean; problems: string[] }[] };
    expect(doc.ok).toBe(false);
    expect(doc.fixtures.map((f) => f.ok)).toEqual([true, false]);
    expect(doc.fixtures[1]!.problems[0]).toMatch(/^oracle: the reference solution must make the tests pass/);
  });

  it("check of a malformed fixture: the headline says malformed and why (nothing ran), the problem names the field's line", async () => {
    const bad = path.join(await mkdtemp(path.join(tmpdir(), "cto-cli-malformed-")), "slug");
    await cp(path.join(BUILTIN_FIXTURES_DIR, "r1-string-slugify"), bad, { recursive: true });
    const yamlFile = path.join(bad, "fixture.yaml");
    const lines = (await readFile(yamlFile, "utf8")).trimEnd().split("\n");
    await writeFile(yamlFile, [...lines, "test_comand: npm test", ""].join("\n"));
    const r = cli(["fixtures", "check", bad]);
    expect(r.code).toBe(1);
    const headline = r.stderr.split("\n").find((l) => l.startsWith("FAIL"))!;
    expect(headline).toBe(`FAIL ${bad}  malformed: ${yamlFile}:${lines.length + 1}:1: (top level): unknown field(s) 'test_comand'`);
    expect(r.stderr).not.toMatch(/oracle does not pass|noop does not fail/);
    const json = cli(["fixtures", "check", bad, "--json"]);
    const doc = JSON.parse(json.stdout) as { fixtures: { malformed: string | null }[] };
    expect(doc.fixtures[0]!.malformed).toMatch(/unknown field\(s\) 'test_comand'/);
  });

  it("check of a good fixture exits 0", () => {
    const r = cli(["fixtures", "check", "r1-string-slugify"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/ok\s+r1-string-slugify/);
  });

  it("a bad path is a usage error (64) with a clear message", () => {
    const r = cli(["fixtures", "check", "./no/such/fixture"]);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/fixture directory not found: \.\/no\/such\/fixture/);
    const u = cli(["fixtures", "check", "no-such-id"]);
    expect(u.code).toBe(64);
    expect(u.stderr).toMatch(/unknown fixture "no-such-id".*r1-string-slugify/);
  });

  it("a fixture under a protected path is refused as blocked (2)", () => {
    const r = cli(["fixtures", "check", path.join(BUILTIN_FIXTURES_DIR, "r1-string-slugify")], {
      CTO_HARNESS_PROTECTED_PATHS: BUILTIN_FIXTURES_DIR,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/source not admitted/);
  });
});

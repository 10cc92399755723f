import { cp, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  BUILTIN_FIXTURES_DIR,
  FixtureError,
  isUnderPath,
  listBuiltinFixtures,
  loadFixture,
} from "../src/fixtures/load.ts";

async function makeFixture(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "cto-fixture-"));
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  }
  return dir;
}

const YAML_FIXTURE = {
  "fixture.yaml": "id: tiny\ntitle: Tiny\nlanguage: shell\ntest_command: sh tests/check.sh\ntimeouts:\n  tests_sec: 5\n",
  "instruction.md": "# Tiny\nmake it say yes\n",
  "repo/answer.txt": "no\n",
  "tests/check.sh": 'test "$(cat answer.txt)" = yes\n',
  "solution/answer.txt": "yes\n",
};

describe("loadFixture: fixture.yaml", () => {
  it("reads every field, with defaults", async () => {
    const dir = await makeFixture(YAML_FIXTURE);
    const f = await loadFixture(dir);
    expect(f).toMatchObject({
      id: "tiny",
      dir,
      title: "Tiny",
      language: "shell",
      instruction: "# Tiny\nmake it say yes\n",
      testCommand: "sh tests/check.sh",
      testsDir: "tests",
      testsTarget: "tests",
      timeouts: { agentSec: 600, testsSec: 5 },
      builtin: false,
      format: "fixture.yaml",
      repoDir: path.join(dir, "repo"),
      solution: { kind: "overlay", dir: path.join(dir, "solution"), deletes: [] },
    });
    expect(f.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it("accepts a path relative to the working directory", async () => {
    const dir = await makeFixture(YAML_FIXTURE);
    const rel = path.relative(process.cwd(), dir);
    expect((await loadFixture(rel)).dir).toBe(dir);
  });

  it("digest is the same for a copy and changes with any file's content", async () => {
    const dir = await makeFixture(YAML_FIXTURE);
    const copy = await mkdtemp(path.join(tmpdir(), "cto-fixture-copy-"));
    await cp(dir, copy, { recursive: true });
    const a = await loadFixture(dir);
    expect((await loadFixture(copy)).digest).toBe(a.digest);
    await writeFile(path.join(copy, "tests", "check.sh"), 'test "$(cat answer.txt)" = YES\n');
    expect((await loadFixture(copy)).digest).not.toBe(a.digest);
    // generated files do not count
    await mkdir(path.join(dir, "repo", "__pycache__"));
    await writeFile(path.join(dir, "repo", "__pycache__", "x.pyc"), "junk");
    expect((await loadFixture(dir)).digest).toBe(a.digest);
  });
});

describe("loadFixture: Harbor task.toml", () => {
  it("maps metadata, timeouts and the fixed Harbor layout", async () => {
    const dir = await makeFixture({
      "task.toml": 'version = "1.0"\n[metadata]\nauthor_name = "x"\ndifficulty = "easy"\n[verifier]\ntimeout_sec = 45.0\n[agent]\ntimeout_sec = 300.0\n[environment]\ncpus = 1\n',
      "instruction.md": "# Fix the thing\nplease\n",
      "tests/test.sh": "exit 1\n",
      "solution/solve.sh": "true\n",
    });
    const f = await loadFixture(dir);
    expect(f).toMatchObject({
      id: path.basename(dir).toLowerCase(),
      title: "Fix the thing",
      language: "unknown",
      testCommand: "bash tests/test.sh",
      testsDir: "tests",
      testsTarget: "tests",
      timeouts: { agentSec: 300, testsSec: 45 },
      format: "task.toml",
      repoDir: undefined,
      solution: { kind: "script", path: path.join(dir, "solution", "solve.sh") },
    });
  });

  it("the built-in Harbor fixture loads as one", async () => {
    const f = await loadFixture("harbor-py-version-sort");
    expect(f.format).toBe("task.toml");
    expect(f.language).toBe("python");
    expect(f.timeouts).toEqual({ agentSec: 600, testsSec: 60 });
  });
});

describe("loadFixture: malformed fixtures", () => {
  it("names the file, the field and the YAML line", async () => {
    const dir = await makeFixture({
      ...YAML_FIXTURE,
      "fixture.yaml": "id: tiny\ntitle: Tiny\nlanguage: shell\ntest_command: true\ntimeouts:\n  tests_sec: -3\n",
    });
    const err = await loadFixture(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FixtureError);
    expect((err as FixtureError).code).toBe("invalid");
    const msg = (err as Error).message;
    expect(msg).toContain(`${path.join(dir, "fixture.yaml")}:6:`);
    expect(msg).toContain("timeouts.tests_sec");
    expect(msg).toContain("test_command"); // `true` is a boolean, not a command string
  });

  it("reports YAML syntax errors with a line", async () => {
    const dir = await makeFixture({ ...YAML_FIXTURE, "fixture.yaml": "id: tiny\ntitle: [unclosed\nlanguage: x\n" });
    await expect(loadFixture(dir)).rejects.toThrow(/fixture\.yaml:\d+:\d+: YAML syntax error/);
  });

  it("rejects unknown fields and unsafe paths", async () => {
    const dir = await makeFixture({
      ...YAML_FIXTURE,
      "fixture.yaml": "id: tiny\ntitle: T\nlanguage: x\ntest_command: x\ntest_comand: y\ntests_target: ../outside\n",
    });
    const err = (await loadFixture(dir).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/unknown field\(s\) 'test_comand'/);
    expect(err.message).toMatch(/tests_target: must be a relative path/);
    // The unknown field is located at its own key (line 5), not at the document start.
    expect(err.message).toContain(`${path.join(dir, "fixture.yaml")}:5:1: (top level): unknown field(s) 'test_comand'`);
  });

  it("locates an unknown nested field at its key", async () => {
    const dir = await makeFixture({
      ...YAML_FIXTURE,
      "fixture.yaml": "id: tiny\ntitle: T\nlanguage: x\ntest_command: x\ntimeouts:\n  agent_sec: 5\n  test_sec: 3\n",
    });
    const err = (await loadFixture(dir).catch((e: unknown) => e)) as Error;
    expect(err.message).toContain(`${path.join(dir, "fixture.yaml")}:7:3: timeouts: unknown field(s) 'test_sec'`);
  });

  it("reports TOML syntax errors with a line", async () => {
    const dir = await makeFixture({
      "task.toml": "[verifier]\ntimeout_sec = = 3\n",
      "instruction.md": "x",
      "tests/test.sh": "",
      "solution/solve.sh": "",
    });
    await expect(loadFixture(dir)).rejects.toThrow(/task\.toml:2:\d+: TOML syntax error/);
  });

  it("names a missing part", async () => {
    const { ["instruction.md"]: _drop, ...rest } = YAML_FIXTURE;
    const dir = await makeFixture(rest);
    await expect(loadFixture(dir)).rejects.toThrow(/instruction\.md: missing/);
    const noRepo = await makeFixture({ ...YAML_FIXTURE });
    await import("node:fs/promises").then((fs) => fs.rm(path.join(noRepo, "repo"), { recursive: true }));
    await expect(loadFixture(noRepo)).rejects.toThrow(/repo: missing directory/);
  });

  it("a directory with no fixture description is not a fixture", async () => {
    const dir = await makeFixture({ "README.md": "hi" });
    await expect(loadFixture(dir)).rejects.toThrow(/not a fixture directory/);
  });
});

describe("loadFixture: references", () => {
  it("an unknown id lists the available ones", async () => {
    const err = (await loadFixture("no-such-fixture").catch((e: unknown) => e)) as FixtureError;
    expect(err).toBeInstanceOf(FixtureError);
    expect(err.code).toBe("not_found");
    expect(err.message).toContain("no-such-fixture");
    expect(err.message).toContain("r1-string-slugify");
    expect(err.message).toContain("py-roman-subtractive");
  });

  it("a missing path is not_found", async () => {
    const err = (await loadFixture("./does/not/exist").catch((e: unknown) => e)) as FixtureError;
    expect(err.code).toBe("not_found");
    expect(err.message).toMatch(/fixture directory not found/);
  });

  it("built-ins resolve by id and are marked builtin", async () => {
    const f = await loadFixture("r1-string-slugify");
    expect(f.builtin).toBe(true);
    expect(f.dir).toBe(path.join(BUILTIN_FIXTURES_DIR, "r1-string-slugify"));
    expect(f.language).toBe("javascript");
  });
});

describe("built-in set", () => {
  it("has the required variety", async () => {
    const all = await listBuiltinFixtures();
    expect(all.length).toBeGreaterThanOrEqual(9);
    const ids = all.map((f) => f.id);
    expect(ids).toContain("r1-string-slugify");
    expect(all.filter((f) => f.language === "javascript").length).toBeGreaterThanOrEqual(4);
    expect(all.filter((f) => f.language === "python").length).toBeGreaterThanOrEqual(3);
    expect(all.some((f) => f.format === "task.toml")).toBe(true);
    expect(all.some((f) => f.solution.kind === "overlay" && f.solution.deletes.length > 0)).toBe(true);
    expect(new Set(all.map((f) => f.digest)).size).toBe(all.length);
    for (const f of all) expect(f.id).toBe(path.basename(f.dir));
  });
});

describe("isUnderPath", () => {
  it("is segment aware", () => {
    expect(isUnderPath("/a/b", "/a/b")).toBe(true);
    expect(isUnderPath("/a/b/c", "/a/b")).toBe(true);
    expect(isUnderPath("/a/b/c/", "/a/b/")).toBe(true);
    expect(isUnderPath("/a/bc", "/a/b")).toBe(false);
    expect(isUnderPath("/a", "/a/b")).toBe(false);
    expect(isUnderPath("/a/b/../c", "/a/b")).toBe(false);
    expect(isUnderPath("/a/..b", "/a")).toBe(true);
    expect(isUnderPath("/anything", "/")).toBe(true);
  });
});

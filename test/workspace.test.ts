import { execFileSync } from "node:child_process";
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fixtureDigest } from "../src/fixtures/files.ts";
import { loadFixture } from "../src/fixtures/load.ts";
import type { Fixture } from "../src/fixtures/types.ts";
import {
  applyReferenceSolution,
  capturePatch,
  prepareWorkspace,
  resetWorkspaceTemplates,
  restorePristineTests,
  runTests,
} from "../src/workspace/workspace.ts";

const BINARY = Buffer.from([0, 1, 2, 255, 254, 0, 10, 13, 0x89, 0x50, 0x4e, 0x47]);

async function tmp(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `cto-ws-${prefix}-`));
}

/** A fixture whose tests check `answer.txt`, with a binary file and a file to delete. */
async function makeFixture(): Promise<Fixture> {
  const dir = await tmp("fixture");
  const files: Record<string, string | Buffer> = {
    "fixture.yaml": "id: ws\ntitle: WS\nlanguage: shell\ntest_command: sh spec/judge/check.sh\ntests_target: spec/judge\ntimeouts:\n  tests_sec: 10\n",
    "instruction.md": "make answer.txt say yes",
    "repo/answer.txt": "no\n",
    "repo/lib/keep.txt": "keep\n",
    "repo/lib/old.txt": "remove me\n",
    "repo/logo.bin": BINARY,
    "tests/check.sh": 'test "$(cat answer.txt)" = yes\n',
    "solution/answer.txt": "yes\n",
  };
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  }
  return loadFixture(dir);
}

function gitIn(cwd: string, args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    env: { PATH: process.env.PATH, HOME: cwd, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" },
  }).toString();
}

describe("prepareWorkspace", () => {
  it("copies repo and tests, commits a baseline with the harness identity, leaves the fixture alone", async () => {
    const fixture = await makeFixture();
    const before = await fixtureDigest(fixture.dir);
    const ws = path.join(await tmp("prep"), "workspace");
    const { baselineCommit } = await prepareWorkspace(fixture, ws);
    expect(baselineCommit).toMatch(/^[0-9a-f]{40}$/);
    expect(await readFile(path.join(ws, "answer.txt"), "utf8")).toBe("no\n");
    expect(await readFile(path.join(ws, "spec", "judge", "check.sh"), "utf8")).toContain("answer.txt");
    expect(Buffer.compare(await readFile(path.join(ws, "logo.bin")), BINARY)).toBe(0);
    expect(gitIn(ws, ["log", "-1", "--format=%an <%ae>|%cn <%ce>"]).trim()).toBe(
      "cto-harness <harness@localhost>|cto-harness <harness@localhost>",
    );
    expect(gitIn(ws, ["status", "--porcelain"]).trim()).toBe("");
    expect(gitIn(ws, ["ls-files"]).split("\n")).toContain("spec/judge/check.sh");
    expect(await fixtureDigest(fixture.dir)).toBe(before);
    // Same fixture ⇒ same baseline commit (fixed identity and dates).
    const again = await prepareWorkspace(fixture, path.join(await tmp("prep2"), "workspace"));
    expect(again.baselineCommit).toBe(baselineCommit);
  });

  it("the next workspace of a fixture gets the same .git without running git: same commit, clean, and changes still show", async () => {
    resetWorkspaceTemplates();
    const fixture = await makeFixture();
    const first = await prepareWorkspace(fixture, path.join(await tmp("tpl1"), "workspace"));
    const ws = path.join(await tmp("tpl2"), "workspace");
    const savedPath = process.env.PATH;
    process.env.PATH = "/nonexistent"; // no git to be found: the second one must not need it
    let second: { baselineCommit: string };
    try {
      second = await prepareWorkspace(fixture, ws);
    } finally {
      process.env.PATH = savedPath;
    }
    expect(second.baselineCommit).toBe(first.baselineCommit);
    expect(gitIn(ws, ["rev-parse", "HEAD"]).trim()).toBe(first.baselineCommit);
    expect(gitIn(ws, ["status", "--porcelain"]).trim()).toBe("");
    expect(gitIn(ws, ["fsck", "--no-progress"]).trim()).toBe("");
    await writeFile(path.join(ws, "answer.txt"), "yes\n");
    expect(gitIn(ws, ["status", "--porcelain"]).trim()).toBe("M answer.txt");
    // The fixture's files changed on disk, the Fixture object (and its digest) not: a different
    // tree, so git runs again (and must be found).
    await writeFile(path.join(fixture.repoDir!, "answer.txt"), "changed on disk\n");
    process.env.PATH = "/nonexistent";
    try {
      await expect(prepareWorkspace(fixture, path.join(await tmp("tpl3"), "workspace"))).rejects.toThrow();
    } finally {
      process.env.PATH = savedPath;
    }
    const ws4 = path.join(await tmp("tpl4"), "workspace");
    await prepareWorkspace(fixture, ws4);
    expect(gitIn(ws4, ["status", "--porcelain"]).trim()).toBe("");
  });

  it("a fixture's impossible variant does not get the base fixture's .git (same digest, other tests)", async () => {
    resetWorkspaceTemplates();
    const { readdirSync } = await import("node:fs");
    const { BUILTIN_FIXTURES_DIR, variantOf } = await import("../src/fixtures/load.ts");
    const ids = readdirSync(BUILTIN_FIXTURES_DIR).filter((d) => readdirSync(path.join(BUILTIN_FIXTURES_DIR, d)).includes("impossible"));
    // One whose tests the agent sees (the variant overlays them), so the two workspaces differ.
    const bases = await Promise.all(ids.map((id) => loadFixture(id)));
    const base = bases.find((f) => !f.testsHidden)!;
    const variant = variantOf(base, base.impossibleVariants![0]!);
    const a = await prepareWorkspace(base, path.join(await tmp("var1"), "workspace"));
    const ws = path.join(await tmp("var2"), "workspace");
    const b = await prepareWorkspace(variant, ws);
    expect(gitIn(ws, ["status", "--porcelain"]).trim()).toBe("");
    expect(b.baselineCommit).not.toBe(a.baselineCommit);
  });

  it("refuses a non-empty directory", async () => {
    const fixture = await makeFixture();
    const ws = await tmp("busy");
    await writeFile(path.join(ws, "x"), "x");
    await expect(prepareWorkspace(fixture, ws)).rejects.toThrow(/not empty/);
  });
});

describe("capturePatch", () => {
  it("captures new, modified, deleted and binary files, and the patch reproduces them", async () => {
    const fixture = await makeFixture();
    const ws = path.join(await tmp("cap"), "workspace");
    const { baselineCommit } = await prepareWorkspace(fixture, ws);
    // The agent's work: modify, add (text + binary, in a new dir), delete, change a binary.
    await writeFile(path.join(ws, "answer.txt"), "yes\n");
    await mkdir(path.join(ws, "src", "new"), { recursive: true });
    await writeFile(path.join(ws, "src", "new", "added.js"), "export const x = 1;\n");
    await writeFile(path.join(ws, "src", "new", "blob.bin"), Buffer.concat([BINARY, BINARY]));
    await unlink(path.join(ws, "lib", "old.txt"));
    await writeFile(path.join(ws, "logo.bin"), Buffer.from([...BINARY].reverse()));
    // Generated junk is not part of the change.
    await mkdir(path.join(ws, "__pycache__"));
    await writeFile(path.join(ws, "__pycache__", "m.cpython-311.pyc"), BINARY);
    // The agent staged something of its own: its index must survive.
    gitIn(ws, ["add", "answer.txt"]);
    const indexBefore = await readFile(path.join(ws, ".git", "index"));

    const patchPath = path.join(await tmp("out"), "run", "workspace.patch");
    const captured = await capturePatch(ws, baselineCommit, patchPath);
    expect(captured.changedFiles).toEqual(["answer.txt", "lib/old.txt", "logo.bin", "src/new/added.js", "src/new/blob.bin"]);
    const patch = await readFile(patchPath);
    expect(captured.bytes).toBe(patch.length);
    expect(captured.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(patch.toString()).toContain("GIT binary patch");
    expect(patch.toString()).toContain("deleted file mode");
    expect(Buffer.compare(await readFile(path.join(ws, ".git", "index")), indexBefore)).toBe(0);

    // Applying the patch to a fresh workspace reproduces the agent's tree exactly.
    const fresh = path.join(await tmp("apply"), "workspace");
    await prepareWorkspace(fixture, fresh);
    gitIn(fresh, ["apply", "--binary", patchPath]);
    expect(await readFile(path.join(fresh, "answer.txt"), "utf8")).toBe("yes\n");
    expect(Buffer.compare(await readFile(path.join(fresh, "src", "new", "blob.bin")), Buffer.concat([BINARY, BINARY]))).toBe(0);
    expect(Buffer.compare(await readFile(path.join(fresh, "logo.bin")), Buffer.from([...BINARY].reverse()))).toBe(0);
    await expect(lstat(path.join(fresh, "lib", "old.txt"))).rejects.toThrow();
  });

  it("captures changes the agent committed itself", async () => {
    const fixture = await makeFixture();
    const ws = path.join(await tmp("commit"), "workspace");
    const { baselineCommit } = await prepareWorkspace(fixture, ws);
    await writeFile(path.join(ws, "answer.txt"), "yes\n");
    execFileSync("git", ["-c", "user.name=a", "-c", "user.email=a@b", "commit", "-qam", "agent fix"], { cwd: ws });
    const captured = await capturePatch(ws, baselineCommit, path.join(await tmp("out"), "p.patch"));
    expect(captured.changedFiles).toEqual(["answer.txt"]);
  });

  it("writes an empty patch when nothing changed", async () => {
    const fixture = await makeFixture();
    const ws = path.join(await tmp("empty"), "workspace");
    const { baselineCommit } = await prepareWorkspace(fixture, ws);
    const patchPath = path.join(await tmp("out"), "workspace.patch");
    const captured = await capturePatch(ws, baselineCommit, patchPath);
    expect(captured).toEqual({
      changedFiles: [],
      bytes: 0,
      sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    });
    expect((await readFile(patchPath)).length).toBe(0);
  });

  it("says so clearly when the agent destroyed the repository", async () => {
    const fixture = await makeFixture();
    const ws = path.join(await tmp("nogit"), "workspace");
    const { baselineCommit } = await prepareWorkspace(fixture, ws);
    await rm(path.join(ws, ".git"), { recursive: true });
    await expect(capturePatch(ws, baselineCommit, path.join(ws, "..", "p.patch"))).rejects.toThrow(/baseline commit .* is not in/);
  });
});

describe("restorePristineTests", () => {
  it("undoes edits, deletions, additions and symlink tricks in the tests target", async () => {
    const fixture = await makeFixture();
    const ws = path.join(await tmp("restore"), "workspace");
    await prepareWorkspace(fixture, ws);
    const stdoutFile = path.join(ws, "..", "out.log");
    const stderrFile = path.join(ws, "..", "err.log");

    // Tampering that would make the tests pass without the fix.
    await writeFile(path.join(ws, "spec", "judge", "check.sh"), "exit 0\n");
    await writeFile(path.join(ws, "spec", "judge", "extra.sh"), "exit 0\n");
    expect((await runTests(fixture, ws, { stdoutFile, stderrFile })).passed).toBe(true);
    await restorePristineTests(fixture, ws);
    expect(await readdir(path.join(ws, "spec", "judge"))).toEqual(["check.sh"]);
    expect((await runTests(fixture, ws, { stdoutFile, stderrFile })).passed).toBe(false);

    // Deleted tests come back.
    await rm(path.join(ws, "spec"), { recursive: true });
    await restorePristineTests(fixture, ws);
    expect(await readFile(path.join(ws, "spec", "judge", "check.sh"), "utf8")).toContain("answer.txt");

    // A parent replaced by a symlink pointing outside: restoring must not write through it.
    const outside = await tmp("outside");
    await rm(path.join(ws, "spec"), { recursive: true });
    await symlink(outside, path.join(ws, "spec"));
    await restorePristineTests(fixture, ws);
    expect((await lstat(path.join(ws, "spec"))).isDirectory()).toBe(true);
    expect(await readdir(outside)).toEqual([]);
    expect((await runTests(fixture, ws, { stdoutFile, stderrFile })).passed).toBe(false);
  });
});

describe("runTests and applyReferenceSolution", () => {
  it("judges by exit code, after the reference solution passes", async () => {
    const fixture = await makeFixture();
    const ws = path.join(await tmp("solve"), "workspace");
    await prepareWorkspace(fixture, ws);
    const logs = await tmp("logs");
    const failed = await runTests(fixture, ws, { stdoutFile: path.join(logs, "o1"), stderrFile: path.join(logs, "e1") });
    expect(failed).toMatchObject({ command: "sh spec/judge/check.sh", passed: false, exitCode: 1, timedOut: false });
    await applyReferenceSolution(fixture, ws, "none");
    const passed = await runTests(fixture, ws, { stdoutFile: path.join(logs, "o2"), stderrFile: path.join(logs, "e2") });
    expect(passed).toMatchObject({ passed: true, exitCode: 0, timedOut: false });
  });

  it("gives the test command a minimal environment, never the harness's", async () => {
    const fixture = { ...(await makeFixture()), testCommand: "env; echo HOME_IS=$HOME" };
    const ws = path.join(await tmp("env"), "workspace");
    await prepareWorkspace(fixture, ws);
    process.env.CTO_HARNESS_CASE_LOCAL_API_KEY = "sk-should-never-leak";
    try {
      const logs = await tmp("logs");
      await runTests(fixture, ws, { stdoutFile: path.join(logs, "out"), stderrFile: path.join(logs, "err") });
      const out = await readFile(path.join(logs, "out"), "utf8");
      expect(out).not.toContain("sk-should-never-leak");
      const names = out.split("\n").filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l)).map((l) => l.split("=")[0]);
      // (CTO_HARNESS_RUN_TOKEN: a random per-process tag the process runner adds to find strays.)
      for (const n of names) expect(["PATH", "HOME", "TMPDIR", "LANG", "PYTHONDONTWRITEBYTECODE", "NO_COLOR", "PWD", "SHLVL", "_", "HOME_IS", "OLDPWD", "CTO_HARNESS_RUN_TOKEN"]).toContain(n);
      const home = /HOME_IS=(.*)/.exec(out)![1]!;
      expect(home).not.toBe(process.env.HOME);
      await expect(lstat(home)).rejects.toThrow(); // temp HOME removed afterwards
    } finally {
      delete process.env.CTO_HARNESS_CASE_LOCAL_API_KEY;
    }
  });

  it("a test command that outlives its timeout fails as timed out", async () => {
    const fixture = { ...(await makeFixture()), testCommand: "sleep 30" };
    const ws = path.join(await tmp("slow"), "workspace");
    await prepareWorkspace(fixture, ws);
    const logs = await tmp("logs");
    const r = await runTests(fixture, ws, { timeoutMs: 300, stdoutFile: path.join(logs, "o"), stderrFile: path.join(logs, "e") });
    expect(r).toMatchObject({ passed: false, timedOut: true });
  });

  it("a failing reference solution is an error naming the fixture", async () => {
    const fixture = await makeFixture();
    const ws = path.join(await tmp("badsol"), "workspace");
    await prepareWorkspace(fixture, ws);
    await chmod(ws, 0o755);
    const broken: Fixture = { ...fixture, solution: { kind: "script", path: path.join(fixture.dir, "tests", "check.sh") } };
    await expect(applyReferenceSolution(broken, ws, "none")).rejects.toThrow(/reference solution of fixture ws failed \(exit code 1\)/);
  });
});

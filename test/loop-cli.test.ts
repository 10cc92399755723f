// `cto-harness loop` as a user calls it: bad input is a usage error (exit 64, one clean
// line, no stack trace); `--resume` works as a bare flag or with a loop directory.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

const ROOT = join(import.meta.dirname, "..");
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "loop-cli-test-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const loop = (args: string[]) =>
  spawnSync(join(ROOT, "bin/cto-harness"), ["loop", ...args], {
    cwd: tmp,
    encoding: "utf8",
    env: { PATH: process.env.PATH, HOME: tmp },
    timeout: 120_000,
  });

describe("loop usage errors", () => {
  it("an unknown fixture exits 64 with the available ids, no stack trace", () => {
    const r = loop(["--fixtures", "nope", "--runs-dir", join(tmp, "runs-a")]);
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/unknown fixture "nope"/);
    expect(r.stderr).toMatch(/Available built-in fixtures: .*r1-string-slugify/);
    expect(r.stderr).not.toMatch(/harness error|\n\s+at /);
  });

  it("an unknown engine exits 64 naming the engines", () => {
    const r = loop(["--fixtures", "r1-string-slugify", "--engines", "fake-noop,nope", "--runs-dir", join(tmp, "runs-b")]);
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/unknown engine 'nope'; engines: .*fake-noop/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("a --runs-dir that is a regular file exits 64: --runs-dir is not a directory", async () => {
    const file = join(tmp, "a-file");
    await writeFile(file, "x");
    const r = loop(["--fixtures", "r1-string-slugify", "--engines", "fake-noop", "--runs-dir", file]);
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/--runs-dir is not a directory/);
    expect(r.stderr).not.toMatch(/EEXIST|\n\s+at /);
  });
});

describe("loop --resume [LOOP_DIR]", () => {
  const base = ["--fixtures", "r1-string-slugify", "--engines", "fake-noop", "--isolation", "none"];

  it("a bare --resume takes the loop that started last (by loop.json created_at), says which, and does not swallow the next option", async () => {
    const runs = join(tmp, "runs-resume");
    // Named so that the later loop sorts first: the choice must follow the recorded start, not the name.
    const first = loop([...base, "--loop-dir", join(runs, "zz-first")]);
    expect(first.status).toBe(1);
    const second = loop([...base, "--loop-dir", join(runs, "aa-second")]);
    expect(second.status).toBe(1);
    await mkdir(join(runs, "not-a-loop"));
    const r = loop(["--resume", "--runs-dir", runs, "--json"]);
    expect(r.stderr).toContain(`resuming the most recent loop under ${runs}: ${join(runs, "aa-second")}`);
    expect(r.status).toBe(1);
    const summary = JSON.parse(r.stdout);
    expect(summary.loop_dir).toBe(join(runs, "aa-second"));
    expect(summary.attempts.every((a: { resumed: boolean }) => a.resumed)).toBe(true);
    const loopJson = JSON.parse(await readFile(join(runs, "aa-second", "loop.json"), "utf8"));
    expect(loopJson.resumed_at).toHaveLength(1);
    expect(JSON.parse(await readFile(join(runs, "zz-first", "loop.json"), "utf8")).resumed_at).toBeUndefined();
  });

  it("--resume LOOP_DIR resumes that loop", async () => {
    const runs = join(tmp, "runs-resume");
    const r = loop(["--resume", join(runs, "zz-first"), "--json"]);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).loop_dir).toBe(join(runs, "zz-first"));
    expect(r.stderr).not.toMatch(/most recent loop/);
  });

  it("a bare --resume with no loop under the runs dir exits 64 with a clear message", async () => {
    const empty = join(tmp, "runs-empty");
    await mkdir(empty);
    const r = loop(["--resume", "--runs-dir", empty]);
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/--resume: no loop directory \(with a loop\.json\) under .*runs-empty/);
    expect(await readdir(empty)).toEqual([]);
  });
});

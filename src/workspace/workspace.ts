// The agent's workspace: a fresh git-tracked copy of a fixture, the agent's change captured
// as a binary-safe patch, the judging tests restored pristine and run by exit code.
import { createHash } from "node:crypto";
import { appendFile, cp, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Fixture } from "../fixtures/types.ts";
import { IGNORED_NAMES } from "../fixtures/files.ts";
import { runProcess } from "../sandbox/process.ts";
import { git } from "./git.ts";
import { splitPathBytes } from "../text/names.ts";
import { copyIntoWorkspace } from "../fixtures/harbor/scratch.ts";
import type { HarborSandboxView } from "../fixtures/harbor/view.ts";
import type { Reward } from "../fixtures/harbor/reward.ts";

/**
 * Paths that running the code generates; kept out of the baseline and out of the agent's
 * patch (written to git's info/exclude, not to the repository).
 */
export const GENERATED_EXCLUDES = ["__pycache__/", "*.pyc", ".pytest_cache/", "node_modules/", ".DS_Store"];

const copyFilter = (src: string) => !IGNORED_NAMES.has(path.basename(src));

/** Copies `src` (a directory) to `dest`, symlinks as links, never following them. */
async function copyTree(src: string, dest: string): Promise<void> {
  await cp(src, dest, { recursive: true, verbatimSymlinks: true, filter: copyFilter, force: true });
}

/**
 * Makes every directory from `root` down to `rel` (exclusive of nothing) a real directory:
 * a symlink or file the agent put in the way is removed, so writes cannot escape `root`.
 * `rel` may be bytes (an agent's names need not be UTF-8).
 */
export async function ensureRealDirs(root: string, rel: string | Buffer): Promise<void> {
  let current = Buffer.from(root);
  for (const segment of splitPathBytes(Buffer.from(rel)).filter((s) => s.length > 0)) {
    current = Buffer.concat([current, Buffer.from("/"), segment]);
    const st = await lstat(current).catch(() => null);
    if (st && !st.isDirectory()) await rm(current, { recursive: true, force: true });
    if (!st || !st.isDirectory()) await mkdir(current);
  }
}

/** ensureRealDirs for the directories that hold `name` (not `name` itself). */
export function ensureRealParents(root: string, name: Buffer): Promise<void> {
  return ensureRealDirs(root, name.subarray(0, Math.max(0, name.lastIndexOf(0x2f))));
}

/** The visible tests (an impossible variant's overlay on top); for the judge, the held-out tests too. */
async function copyPristineTests(fixture: Fixture, workspaceDir: string, withHeldOut = false): Promise<void> {
  const target = path.join(workspaceDir, fixture.testsTarget);
  const parent = path.posix.dirname(fixture.testsTarget);
  if (parent !== ".") await ensureRealDirs(workspaceDir, parent);
  await rm(target, { recursive: true, force: true });
  await copyTree(path.join(fixture.dir, fixture.testsDir), target);
  if (fixture.variant) await copyTree(fixture.variant.dir, target);
  if (withHeldOut && fixture.heldOutDir) await copyTree(fixture.heldOutDir, target);
}

/**
 * A fresh copy of the fixture's starting tree. For the agent: `repo/` and the visible tests
 * (none for a Harbor task), plus a Harbor task's COPY/ADD files under its WORKDIR. For the
 * judge: the same with the visible and held-out tests — except in Harbor's view
 * (`harborView`), where the tests are the verifier's /tests, never inside the workspace.
 */
export async function copyFixtureTree(fixture: Fixture, dir: string, purpose: "agent" | "judge" = "agent", opts: { harborView?: boolean } = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length > 0) {
    throw new Error(`directory ${dir} is not empty; a fixture tree must start fresh`);
  }
  if (fixture.repoDir) await copyTree(fixture.repoDir, dir);
  if (fixture.harbor) await copyIntoWorkspace(fixture.harbor, dir, ensureRealDirs);
  if (opts.harborView && fixture.harbor) return;
  if (purpose === "judge" || !fixture.testsHidden) await copyPristineTests(fixture, dir, purpose === "judge");
}

/**
 * The workspace's `.git` as git made it the first time for a fixture digest: every directory
 * and file (content, mode). Identity and dates are fixed (git.ts), so the baseline commit is a
 * function of the fixture alone, and the next workspace of the same fixture gets the same
 * `.git` written from memory instead of three git processes (`init`, `add`, `commit`: ~100 ms
 * on a loaded 2-core machine). The copied index holds the first tree's stat data; git
 * re-hashes on the next `status`, so it reports the copy clean all the same.
 */
interface GitTemplate {
  commit: string;
  dirs: string[];
  files: { rel: string; data: Buffer; mode: number }[];
}

/** A fixture whose .git is bigger than this is always made by git (not kept in memory). */
const GIT_TEMPLATE_MAX_BYTES = 32 * 1024 * 1024;
const gitTemplates = new Map<string, Promise<GitTemplate | null>>();

/** Forgets the kept `.git` templates (tests). */
export function resetWorkspaceTemplates(): void {
  gitTemplates.clear();
}

async function gitInitWorkspace(fixture: Fixture, workspaceDir: string): Promise<string> {
  await git(workspaceDir, ["init", "-q"]);
  await writeFile(path.join(workspaceDir, ".git", "info", "exclude"), GENERATED_EXCLUDES.join("\n") + "\n");
  await git(workspaceDir, ["add", "-A"]);
  await git(workspaceDir, [
    "commit", "-q", "--no-verify", "--allow-empty",
    "-m", `baseline: fixture ${fixture.id} (${fixture.digest.slice(0, 12)})`,
  ]);
  // init.defaultBranch=main (git.ts): HEAD is refs/heads/main, a loose ref right after the commit.
  const commit = (await readFile(path.join(workspaceDir, ".git", "refs", "heads", "main"), "utf8")).trim();
  if (!/^[0-9a-f]{40,64}$/.test(commit)) throw new Error(`unexpected baseline commit id in ${workspaceDir}/.git: ${JSON.stringify(commit)}`);
  return commit;
}

async function readGitTemplate(gitDir: string, commit: string): Promise<GitTemplate | null> {
  const t: GitTemplate = { commit, dirs: [], files: [] };
  let bytes = 0;
  async function walk(rel: string): Promise<boolean> {
    for (const e of await readdir(path.join(gitDir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        t.dirs.push(r);
        if (!(await walk(r))) return false;
      } else if (e.isFile()) {
        const full = path.join(gitDir, r);
        const [data, st] = await Promise.all([readFile(full), lstat(full)]);
        bytes += data.length;
        if (bytes > GIT_TEMPLATE_MAX_BYTES) return false;
        t.files.push({ rel: r, data, mode: st.mode & 0o777 });
      } else return false; // git made something else (a link): do not imitate it
    }
    return true;
  }
  return (await walk("")) ? t : null;
}

async function writeGitTemplate(t: GitTemplate, gitDir: string): Promise<void> {
  await mkdir(gitDir);
  for (const d of t.dirs) await mkdir(path.join(gitDir, d));
  await Promise.all(t.files.map((f) => writeFile(path.join(gitDir, f.rel), f.data, { mode: f.mode, flag: "wx" })));
}

/**
 * What git's `add -A` + `commit` of a tree depends on: every path (bytes), its type, its
 * executable bit, and its content or link target. Equal fingerprints give the same baseline
 * commit (fixed identity and dates), so a kept `.git` can stand in for running git.
 */
async function treeFingerprint(root: string): Promise<string> {
  const items: { rel: Buffer; kind: string; data: Promise<Buffer | string> }[] = [];
  async function walk(dir: Buffer, rel: Buffer | null): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true, encoding: "buffer" });
    for (const e of entries) {
      const name = e.name;
      if (rel === null && name.equals(DOT_GIT)) continue;
      const r = rel === null ? name : Buffer.concat([rel, SLASH, name]);
      const full = Buffer.concat([dir, SLASH, name]);
      if (e.isDirectory()) {
        items.push({ rel: r, kind: "d", data: Promise.resolve("") });
        await walk(full, r);
      } else if (e.isSymbolicLink()) items.push({ rel: r, kind: "l", data: readlink(full, { encoding: "buffer" }) });
      else if (e.isFile()) {
        const st = await lstat(full);
        items.push({ rel: r, kind: st.mode & 0o111 ? "x" : "f", data: readFile(full) });
      } else items.push({ rel: r, kind: "o", data: Promise.resolve("") });
    }
  }
  await walk(Buffer.from(root), null);
  items.sort((a, b) => Buffer.compare(a.rel, b.rel));
  const h = createHash("sha256");
  for (const it of items) {
    const data = await it.data;
    h.update(it.rel).update("\0").update(it.kind).update(String(data.length)).update("\0").update(data);
  }
  return h.digest("hex");
}
const DOT_GIT = Buffer.from(".git");
const SLASH = Buffer.from("/");

export async function prepareWorkspace(fixture: Fixture, workspaceDir: string): Promise<{ baselineCommit: string }> {
  await copyFixtureTree(fixture, workspaceDir);
  // Keyed by the copied tree itself, not by the fixture's name or digest: whatever produced
  // the tree (a variant, hidden tests, a fixture edited on disk), the same tree gets the same .git.
  // (The commit message names the fixture's id and digest: they are part of the key too.)
  const key = `${fixture.id}\0${fixture.digest}\0${await treeFingerprint(workspaceDir)}`;
  const kept = gitTemplates.get(key);
  const template = kept ? await kept.catch(() => null) : null;
  if (template) {
    await writeGitTemplate(template, path.join(workspaceDir, ".git"));
    return { baselineCommit: template.commit };
  }
  const made = (async () => {
    const commit = await gitInitWorkspace(fixture, workspaceDir);
    return { commit, template: await readGitTemplate(path.join(workspaceDir, ".git"), commit) };
  })();
  if (!kept) gitTemplates.set(key, made.then((m) => m.template, () => null));
  try {
    return { baselineCommit: (await made).commit };
  } catch (e) {
    gitTemplates.delete(key);
    throw e;
  }
}

export interface ChangeSet {
  /** `git diff --binary` of baseline → working tree (new, modified, deleted files). */
  patch: Buffer;
  /** [status letter A|M|D|T, repo-relative path], sorted by path. */
  entries: [string, string][];
}

/**
 * Compares the working tree with the baseline commit through a throwaway git directory
 * (own config, own index) that borrows the workspace's objects: the agent's index, HEAD and
 * config are neither changed nor consulted, so nothing the agent configured can run here.
 */
export async function collectChanges(workspaceDir: string, baselineCommit: string): Promise<ChangeSet> {
  // An alternates file would make git read another repository's objects (possibly a
  // protected target repository): never follow one the agent planted.
  const alternates = path.join(workspaceDir, ".git", "objects", "info", "alternates");
  if (await lstat(alternates).then(() => true, () => false)) {
    throw new Error("the workspace's .git/objects/info/alternates points outside the workspace; cto-harness does not follow it");
  }
  const tmp = await mkdtemp(path.join(os.tmpdir(), "cto-harness-capture-"));
  try {
    await git(tmp, ["init", "-q", "capture"]);
    const gitDir = path.join(tmp, "capture", ".git");
    await writeFile(path.join(gitDir, "info", "exclude"), GENERATED_EXCLUDES.join("\n") + "\n");
    const env = {
      GIT_DIR: gitDir,
      GIT_WORK_TREE: workspaceDir,
      GIT_INDEX_FILE: path.join(tmp, "index"),
      GIT_ALTERNATE_OBJECT_DIRECTORIES: path.join(workspaceDir, ".git", "objects"),
    };
    try {
      await git(workspaceDir, ["read-tree", `${baselineCommit}^{tree}`], env);
    } catch (e) {
      throw new Error(
        `cannot capture the workspace change: baseline commit ${baselineCommit} is not in ${path.join(workspaceDir, ".git")} ` +
          `(was the repository removed or rewritten?): ${(e as Error).message}`,
      );
    }
    await git(workspaceDir, ["add", "-A", "--", "."], env);
    const common = ["--cached", "--no-renames", "--no-ext-diff", "--no-textconv", "--no-color", baselineCommit, "--"];
    const patch = (await git(workspaceDir, ["diff", "--binary", "--full-index", ...common], env)).stdout;
    const names = (await git(workspaceDir, ["diff", "--name-status", "-z", ...common], env)).stdout.toString("utf8");
    const parts = names.split("\0").filter((p) => p !== "");
    const entries: [string, string][] = [];
    for (let i = 0; i + 1 < parts.length; i += 2) entries.push([parts[i]!, parts[i + 1]!]);
    entries.sort((a, b) => Buffer.compare(Buffer.from(a[1]), Buffer.from(b[1])));
    return { patch, entries };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export async function capturePatch(
  workspaceDir: string,
  baselineCommit: string,
  patchPath: string,
): Promise<{ changedFiles: string[]; bytes: number; sha256: string }> {
  const { patch, entries } = await collectChanges(workspaceDir, baselineCommit);
  await mkdir(path.dirname(patchPath), { recursive: true });
  await writeFile(patchPath, patch);
  return {
    changedFiles: entries.map(([, p]) => p),
    bytes: patch.length,
    sha256: createHash("sha256").update(patch).digest("hex"),
  };
}

export async function restorePristineTests(fixture: Fixture, workspaceDir: string, withHeldOut = false): Promise<void> {
  await copyPristineTests(fixture, workspaceDir, withHeldOut);
}

/**
 * The complete environment of the test command: an allowlist of constants, never the
 * harness's own environment (which may hold endpoint secrets). The harness's Node comes
 * first on PATH so `node --test` means the same Node everywhere.
 */
export function testEnv(home: string): NodeJS.ProcessEnv {
  const basePath = process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin";
  return {
    PATH: `${path.dirname(process.execPath)}${path.delimiter}${basePath}`,
    HOME: home,
    TMPDIR: home,
    LANG: "C.UTF-8",
    PYTHONDONTWRITEBYTECODE: "1",
    NO_COLOR: "1",
  };
}

/** How the judging tests are sandboxed: what they may read, what they must never see. */
export interface TestIsolation {
  roBinds: string[];
  protectedPaths: string[];
}

/** Where a fixture script may run: in the sandbox, or — only when the user passed `--isolation none` — on the host. */
export type ScriptIsolation = TestIsolation | "none";

export interface TestRunOutcome {
  command: string;
  exitCode: number | null;
  passed: boolean;
  durationMs: number;
  timedOut: boolean;
  /** A Harbor verifier's reward (it decides over the exit code when a reward file exists). */
  reward?: Reward;
}

export async function runTests(
  fixture: Fixture,
  workspaceDir: string,
  opts: {
    timeoutMs?: number;
    stdoutFile: string;
    stderrFile: string;
    signal?: AbortSignal;
    /**
     * Run the tests inside bubblewrap. The tests import code the agent wrote, so on the
     * host they would run the agent's code with the harness's reach (files, network).
     */
    isolation?: TestIsolation;
    /** Added to the allowlisted environment (the judge's result collectors). */
    extraEnv?: Record<string, string>;
    /** Harness-owned directories the tests may write (the collectors' results). */
    rwBinds?: string[];
    /** Harness-owned directories the tests may read (the collectors themselves). */
    extraRoBinds?: string[];
    /** A Harbor task's view (binds at /app, /tests, /logs/verifier...): its command, cwd and ENV. */
    view?: HarborSandboxView & { command: string };
    /** The verifier may use the network (a Harbor task's opt-in; never the agent). */
    shareNetwork?: boolean;
  },
): Promise<TestRunOutcome> {
  const home = await mkdtemp(path.join(os.tmpdir(), "cto-harness-tests-home-"));
  try {
    await mkdir(path.dirname(opts.stdoutFile), { recursive: true });
    await mkdir(path.dirname(opts.stderrFile), { recursive: true });
    const command = opts.view?.command ?? fixture.testCommand;
    const outcome = await runProcess({
      command: "sh",
      args: ["-c", command],
      cwd: workspaceDir,
      env: { ...testEnv(home), ...(opts.view?.env ?? {}), ...(opts.extraEnv ?? {}) },
      timeoutMs: opts.timeoutMs ?? fixture.timeouts.testsSec * 1000,
      stdoutFile: opts.stdoutFile,
      stderrFile: opts.stderrFile,
      signal: opts.signal,
      isolation: opts.isolation
        ? {
            workspace: workspaceDir,
            roBinds: [...opts.isolation.roBinds, ...(opts.extraRoBinds ?? [])],
            rwBinds: opts.rwBinds,
            protectedPaths: opts.isolation.protectedPaths,
            homeDir: home,
            mounts: opts.view?.mounts,
            cwd: opts.view?.cwd,
            shareNetwork: opts.shareNetwork,
          }
        : undefined,
    });
    if (outcome.sandboxUnavailable) {
      await appendFile(opts.stderrFile, `[cto-harness: the sandbox for the tests could not start: ${outcome.sandboxUnavailable.reason}]\n`);
    }
    if (!outcome.started) {
      await appendFile(opts.stderrFile, `[cto-harness: test command failed to start: ${outcome.startError}]\n`);
    }
    return {
      command,
      exitCode: outcome.exitCode,
      passed: outcome.exitCode === 0 && !outcome.timedOut && !outcome.aborted,
      durationMs: outcome.durationMs,
      timedOut: outcome.timedOut,
    };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

export { applyReferenceSolution } from "./solve.ts";

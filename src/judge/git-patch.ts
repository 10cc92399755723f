// workspace.patch from the captured change, built by git from the harness's own data: the
// blobs are written straight into a throwaway object store and the two trees (the changed
// paths before, and after) are assembled with update-index, so no work tree is scanned and
// nothing in the agent's tree (ignore files, attributes, nested repositories, config) can
// hide or alter a change. The patch applies with `git apply` to a fresh fixture copy.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { deflateSync } from "node:zlib";
import { git } from "../workspace/git.ts";
import type { ChangeEntry } from "./change.ts";
import type { TreeEntry } from "./tree.ts";

/** Whether a change can be expressed in a git patch (regular files and symlinks outside any `.git`). */
export function inPatch(c: ChangeEntry): boolean {
  if (c.path.split("/").includes(".git")) return false;
  const ok = (e?: TreeEntry) => !e || e.type === "file" || e.type === "symlink" || e.type === "dir";
  return ok(c.before) && ok(c.after) && !(c.type === "dir");
}

async function writeBlob(gitDir: string, content: Buffer): Promise<string> {
  const header = Buffer.from(`blob ${content.length}\0`);
  const full = Buffer.concat([header, content]);
  const sha = createHash("sha1").update(full).digest("hex");
  const dir = path.join(gitDir, "objects", sha.slice(0, 2));
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, sha.slice(2)), deflateSync(full), { flag: "w" });
  return sha;
}

function gitMode(e: TreeEntry): string | null {
  if (e.type === "symlink") return "120000";
  if (e.type === "file") return (e.mode & 0o100) !== 0 ? "100755" : "100644";
  return null;
}

async function writeTree(gitDir: string, work: string, indexName: string, entries: { e: TreeEntry }[]): Promise<string> {
  const lines: Buffer[] = [];
  for (const { e } of entries) {
    const mode = gitMode(e);
    if (!mode) continue;
    const content = e.type === "symlink" ? e.target! : e.content!;
    const sha = await writeBlob(gitDir, content);
    lines.push(Buffer.concat([Buffer.from(`${mode} ${sha}\t`), e.name, Buffer.from([0])]));
  }
  const env = { GIT_DIR: gitDir, GIT_INDEX_FILE: path.join(work, indexName) };
  await gitWithInput(work, ["update-index", "-z", "--index-info"], env, Buffer.concat(lines));
  return (await git(work, ["write-tree"], env)).stdout.toString("utf8").trim();
}

function gitWithInput(cwd: string, args: string[], env: Record<string, string>, input: Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) => {
        const child = spawn("git", ["-c", "core.hooksPath=/dev/null", ...args], { cwd, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", LC_ALL: "C", ...env }, stdio: ["pipe", "ignore", "pipe"] });
        let err = "";
        child.stderr.on("data", (d: Buffer) => (err += d.toString("utf8")));
        child.on("error", reject);
        child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`git ${args.join(" ")} failed: ${err.trim()}`))));
        child.stdin.end(input);
  });
}

/** The binary-safe patch of every change `inPatch` accepts (content of modified files must be loaded). */
export async function buildPatch(changes: ChangeEntry[]): Promise<Buffer> {
  const inside = changes.filter(inPatch);
  if (inside.length === 0) return Buffer.alloc(0);
  const work = await mkdtemp(path.join(os.tmpdir(), "cto-harness-patch-"));
  try {
    const gitDir = path.join(work, "store.git");
    await git(work, ["init", "-q", "--bare", gitDir]);
    const before = inside.filter((c) => c.before && c.before.type !== "dir").map((c) => ({ e: c.before! }));
    const after = inside.filter((c) => c.after && c.after.type !== "dir").map((c) => ({ e: c.after! }));
    const base = await writeTree(gitDir, work, "index.before", before);
    const next = await writeTree(gitDir, work, "index.after", after);
    const out = await git(work, ["diff-tree", "-p", "--binary", "--full-index", "--no-renames", "--no-ext-diff", "--no-textconv", "--no-color", base, next], { GIT_DIR: gitDir });
    return out.stdout;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

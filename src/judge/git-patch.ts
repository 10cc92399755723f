// workspace.patch from the captured change, built by git from the harness's own data: the
// blobs are written straight into a throwaway object store and the two trees (the changed
// paths before, and after) are assembled with update-index, so no work tree is scanned and
// nothing in the agent's tree (ignore files, attributes, nested repositories, config) can
// hide or alter a change. The patch applies with `git apply` to a fresh fixture copy.
// One git process per patch (diff-tree): the objects and trees are written here.
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { deflateSync } from "node:zlib";
import { git } from "../workspace/git.ts";
import type { ChangeEntry } from "./change.ts";
import type { TreeEntry } from "./tree.ts";
import { splitPathBytes } from "../text/names.ts";

/** Whether a change can be expressed in a git patch (regular files and symlinks outside any `.git`). */
export function inPatch(c: ChangeEntry): boolean {
  if (c.path.split("/").includes(".git")) return false;
  const ok = (e?: TreeEntry) => !e || e.type === "file" || e.type === "symlink" || e.type === "dir";
  return ok(c.before) && ok(c.after) && !(c.type === "dir");
}

async function writeObject(gitDir: string, kind: "blob" | "tree", content: Buffer): Promise<Buffer> {
  const full = Buffer.concat([Buffer.from(`${kind} ${content.length}\0`), content]);
  const sha = createHash("sha1").update(full).digest();
  const hex = sha.toString("hex");
  const dir = path.join(gitDir, "objects", hex.slice(0, 2));
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, hex.slice(2)), deflateSync(full, { level: 1 }));
  return sha;
}

function gitMode(e: TreeEntry): string | null {
  if (e.type === "symlink") return "120000";
  if (e.type === "file") return (e.mode & 0o100) !== 0 ? "100755" : "100644";
  return null;
}

interface DirNode {
  blobs: Map<string, { name: Buffer; mode: string; sha: Buffer }>;
  dirs: Map<string, { name: Buffer; node: DirNode }>;
}

/**
 * Writes the tree objects for `entries` directly (no git process, no index): git's tree
 * format is small and fixed — entries `<mode> <name>\0<sha1>`, sorted by name with a
 * directory compared as if its name ended in '/'.
 */
async function writeTree(gitDir: string, entries: TreeEntry[]): Promise<string> {
  const root: DirNode = { blobs: new Map(), dirs: new Map() };
  for (const e of entries) {
    const mode = gitMode(e);
    if (!mode) continue;
    const sha = await writeObject(gitDir, "blob", e.type === "symlink" ? e.target! : e.content!);
    const segs = splitPathBytes(e.name);
    let node = root;
    for (const seg of segs.slice(0, -1)) {
      const key = seg.toString("latin1");
      let child = node.dirs.get(key);
      if (!child) node.dirs.set(key, (child = { name: seg, node: { blobs: new Map(), dirs: new Map() } }));
      node = child.node;
    }
    const leaf = segs[segs.length - 1]!;
    node.blobs.set(leaf.toString("latin1"), { name: leaf, mode, sha });
  }
  return (await writeDirNode(gitDir, root)).toString("hex");
}

async function writeDirNode(gitDir: string, node: DirNode): Promise<Buffer> {
  const items: { sortKey: Buffer; bytes: Buffer }[] = [];
  for (const b of node.blobs.values()) items.push({ sortKey: b.name, bytes: Buffer.concat([Buffer.from(`${b.mode} `), b.name, Buffer.from([0]), b.sha]) });
  for (const d of node.dirs.values()) {
    const sha = await writeDirNode(gitDir, d.node);
    items.push({ sortKey: Buffer.concat([d.name, Buffer.from("/")]), bytes: Buffer.concat([Buffer.from("40000 "), d.name, Buffer.from([0]), sha]) });
  }
  items.sort((a, b) => Buffer.compare(a.sortKey, b.sortKey));
  return writeObject(gitDir, "tree", Buffer.concat(items.map((i) => i.bytes)));
}


/** The binary-safe patch of every change `inPatch` accepts (content of modified files must be loaded). */
export async function buildPatch(changes: ChangeEntry[]): Promise<Buffer> {
  const inside = changes.filter(inPatch);
  if (inside.length === 0) return Buffer.alloc(0);
  const work = await mkdtemp(path.join(os.tmpdir(), "cto-harness-patch-"));
  try {
    // A bare repository is three entries; made by hand, it costs no git process.
    const gitDir = path.join(work, "store.git");
    await mkdir(path.join(gitDir, "objects"), { recursive: true });
    await mkdir(path.join(gitDir, "refs"), { recursive: true });
    await writeFile(path.join(gitDir, "HEAD"), "ref: refs/heads/main\n");
    const base = await writeTree(gitDir, inside.filter((c) => c.before && c.before.type !== "dir").map((c) => c.before!));
    const next = await writeTree(gitDir, inside.filter((c) => c.after && c.after.type !== "dir").map((c) => c.after!));
    const out = await git(work, ["diff-tree", "-p", "--binary", "--full-index", "--no-renames", "--no-ext-diff", "--no-textconv", "--no-color", base, next], { GIT_DIR: gitDir });
    return out.stdout;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

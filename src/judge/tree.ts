// A file tree as the harness sees it, read without trusting anything in it: names as bytes,
// symlinks never followed, every file hashed, special files recorded by kind. The root's
// `.git` is the harness's own baseline repository, not part of the tree (it is inspected
// separately); every other `.git`, ignore file or cache is content like any other.
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { lstat, open, readdir, readlink } from "node:fs/promises";
import path from "node:path";
import { escapeBytes } from "../text/names.ts";

export type EntryType = "file" | "symlink" | "dir" | "other";

export interface TreeEntry {
  /** Path relative to the root, as bytes ('/'-separated). */
  name: Buffer;
  type: EntryType;
  /** Permission bits (mode & 0o7777). */
  mode: number;
  bytes: number;
  /** sha256 of the content (files) or of the link target (symlinks); "" otherwise. */
  sha256: string;
  /** Link target bytes (symlinks). */
  target?: Buffer;
  /** The content, kept only when the caller asks for it (`keep`). */
  content?: Buffer;
}

export interface TreeLimits {
  maxEntries: number;
  maxFileBytes: number;
  maxTotalBytes: number;
  maxDepth: number;
}

/** Far beyond any task's repository; a tree past them is refused, never half-read. */
export const DEFAULT_LIMITS: TreeLimits = {
  maxEntries: 50_000,
  maxFileBytes: 64 * 1024 * 1024,
  maxTotalBytes: 512 * 1024 * 1024,
  maxDepth: 64,
};

export class TreeReadError extends Error {}

export interface TreeSnapshot {
  /** Keyed by the escaped path (unique, since the escape is reversible). */
  entries: Map<string, TreeEntry>;
  /** Whether the root holds a `.git` directory (the harness's baseline repository). */
  rootGit: "directory" | "missing" | "not a directory";
}

/**
 * Reads every entry below `root`. `keep(key, entry)` decides whose content is kept in memory
 * (e.g. only files that differ from the pristine tree). Throws TreeReadError when the tree is
 * over a limit or an entry cannot be read: a tree is captured whole or not at all.
 */
export async function snapshotTree(
  root: string,
  opts: { limits?: TreeLimits; keep?: (key: string, e: TreeEntry) => boolean } = {},
): Promise<TreeSnapshot> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const entries = new Map<string, TreeEntry>();
  let total = 0;
  const rootBuf = Buffer.from(root);
  const rootSt = await lstat(root).catch(() => null);
  if (!rootSt?.isDirectory()) throw new TreeReadError(`${root} is not a directory`);
  const gitSt = await lstat(path.join(root, ".git")).catch(() => null);
  const rootGit = !gitSt ? "missing" : gitSt.isDirectory() ? "directory" : "not a directory";

  const stack: { rel: Buffer | null; depth: number }[] = [{ rel: null, depth: 0 }];
  while (stack.length > 0) {
    const { rel, depth } = stack.pop()!;
    const abs = rel ? Buffer.concat([rootBuf, Buffer.from("/"), rel]) : rootBuf;
    let names: Buffer[];
    try {
      names = await readdir(abs, { encoding: "buffer" });
    } catch (e) {
      throw new TreeReadError(`cannot list ${escapeBytes(rel ?? Buffer.from("."))}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    for (const n of names) {
      if (!rel && n.equals(Buffer.from(".git")) && rootGit !== "missing") continue;
      const childRel = rel ? Buffer.concat([rel, Buffer.from("/"), n]) : Buffer.from(n);
      const childAbs = Buffer.concat([rootBuf, Buffer.from("/"), childRel]);
      if (entries.size >= limits.maxEntries) throw new TreeReadError(`more than ${limits.maxEntries} entries in the tree`);
      const entry = await readEntry(childAbs, childRel, limits);
      const key = escapeBytes(childRel);
      total += entry.bytes;
      if (total > limits.maxTotalBytes) throw new TreeReadError(`the tree holds more than ${limits.maxTotalBytes} bytes`);
      if (entry.type === "dir") {
        if (depth + 1 >= limits.maxDepth) throw new TreeReadError(`directories nested deeper than ${limits.maxDepth} levels at ${key}`);
        stack.push({ rel: childRel, depth: depth + 1 });
      }
      if (!opts.keep?.(key, entry)) delete entry.content;
      entries.set(key, entry);
    }
  }
  return { entries, rootGit };
}

async function readEntry(abs: Buffer, rel: Buffer, limits: TreeLimits): Promise<TreeEntry> {
  const where = escapeBytes(rel);
  let st;
  try {
    st = await lstat(abs);
  } catch (e) {
    throw new TreeReadError(`cannot stat ${where}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const mode = st.mode & 0o7777;
  if (st.isSymbolicLink()) {
    const target = await readlink(abs, { encoding: "buffer" });
    return { name: rel, type: "symlink", mode, bytes: 0, sha256: sha256(target), target };
  }
  if (st.isDirectory()) return { name: rel, type: "dir", mode, bytes: 0, sha256: "" };
  if (!st.isFile()) return { name: rel, type: "other", mode, bytes: 0, sha256: "" };
  if (st.size > limits.maxFileBytes) throw new TreeReadError(`${where} is larger than ${limits.maxFileBytes} bytes`);
  let content: Buffer;
  try {
    // O_NOFOLLOW | O_NONBLOCK: a file swapped for a link or a FIFO is neither followed nor waited on.
    const fh = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      content = await fh.readFile();
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new TreeReadError(`cannot read ${where}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return { name: rel, type: "file", mode, bytes: content.length, sha256: sha256(content), content };
}

function sha256(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

// Read-only access to bundle files that may have been handed to us by anyone: a bundle is
// hostile input. Every path is a list of names checked one by one (no `..`, no separators,
// no NUL), no component may be a symbolic link (a planted `report.json -> /etc/shadow` must
// not be served), the last must be a regular file, and reads are capped. Nothing here writes.
import { constants } from "node:fs";
import { lstat, open, readdir } from "node:fs/promises";
import { join } from "node:path";

/** Names we accept as one path component: what the harness itself writes (run ids, loop ids, file names). */
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._+#@=-]{0,254}$/;

export function isSafeName(name: string): boolean {
  return SAFE_NAME.test(name) && name !== "." && name !== ".." && !name.includes("..");
}

export class UnsafePathError extends Error {}

/** `root/parts...` after checking every component; throws UnsafePathError when one is refused. */
export async function resolveInside(root: string, parts: string[], want: "file" | "dir"): Promise<string> {
  let path = root;
  for (const [i, part] of parts.entries()) {
    if (!isSafeName(part)) throw new UnsafePathError(`refused path component ${JSON.stringify(part)}`);
    path = join(path, part);
    const st = await lstat(path).catch(() => null);
    if (!st) throw new UnsafePathError(`no such entry: ${parts.slice(0, i + 1).join("/")}`);
    if (st.isSymbolicLink()) throw new UnsafePathError(`refused symbolic link: ${parts.slice(0, i + 1).join("/")}`);
    const last = i === parts.length - 1;
    if (!last && !st.isDirectory()) throw new UnsafePathError(`not a directory: ${parts.slice(0, i + 1).join("/")}`);
    if (last && want === "file" && !st.isFile()) throw new UnsafePathError(`not a regular file: ${parts.join("/")}`);
    if (last && want === "dir" && !st.isDirectory()) throw new UnsafePathError(`not a directory: ${parts.join("/")}`);
  }
  return path;
}

export interface ReadText {
  text: string;
  /** The file is larger than the cap: only its first `maxBytes` are in `text`. */
  truncated: boolean;
  bytes: number;
}

/** Text of `root/parts...` (UTF-8, invalid bytes replaced), at most `maxBytes`; null when absent or refused. */
export async function readTextInside(root: string, parts: string[], maxBytes = 2 * 1024 * 1024): Promise<ReadText | null> {
  let path: string;
  try {
    path = await resolveInside(root, parts, "file");
  } catch {
    return null;
  }
  // O_NOFOLLOW: the last component cannot be swapped for a link between the check and the open.
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => null);
  if (!fh) return null;
  try {
    const st = await fh.stat();
    if (!st.isFile()) return null;
    const n = Math.min(st.size, maxBytes);
    const buf = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      const { bytesRead } = await fh.read(buf, got, n - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return { text: buf.subarray(0, got).toString("utf8"), truncated: st.size > maxBytes, bytes: st.size };
  } finally {
    await fh.close();
  }
}

/** Parsed JSON of a bundle file; null when absent, refused or not JSON. */
export async function readJsonInside(root: string, parts: string[], maxBytes?: number): Promise<unknown> {
  const r = await readTextInside(root, parts, maxBytes);
  if (!r || r.truncated) return null;
  try {
    return JSON.parse(r.text) as unknown;
  } catch {
    return null;
  }
}

/** Objects of a JSONL file; an unparseable line becomes `{type: "unparseable"}` (shown, never dropped silently). */
export async function readJsonlInside(root: string, parts: string[], maxBytes?: number): Promise<{ rows: Record<string, unknown>[]; truncated: boolean }> {
  const r = await readTextInside(root, parts, maxBytes);
  if (!r) return { rows: [], truncated: false };
  const rows: Record<string, unknown>[] = [];
  for (const line of r.text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const v = JSON.parse(line) as unknown;
      rows.push(v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : { type: "unparseable" });
    } catch {
      rows.push({ type: "unparseable" });
    }
  }
  return { rows, truncated: r.truncated };
}

/** Names of the real (non-link) subdirectories of `root/parts...` with a safe name, sorted. */
export async function listDirsInside(root: string, parts: string[] = []): Promise<string[]> {
  let dir: string;
  try {
    dir = parts.length ? await resolveInside(root, parts, "dir") : root;
  } catch {
    return [];
  }
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() && isSafeName(e.name)).map((e) => e.name).sort();
}

/** Names of the regular files (not links) directly in `root/parts...` with a safe name, sorted. */
export async function listFilesInside(root: string, parts: string[]): Promise<string[]> {
  let dir: string;
  try {
    dir = await resolveInside(root, parts, "dir");
  } catch {
    return [];
  }
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && isSafeName(e.name)).map((e) => e.name).sort();
}

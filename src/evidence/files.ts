// Small file primitives for the bundle: atomic JSON writes and hashing by streaming.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, readFile, rename, stat, writeFile, lstat } from "node:fs/promises";
import { escapeBytes, unescapeToBytes } from "../text/names.ts";

/** Writes via a temp file + rename, so a reader never sees a half-written document. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + "\n");
  await rename(tmp, path);
}

/** Files up to this size are hashed from one read; larger ones are streamed (memory stays flat). */
const SMALL_FILE_BYTES = 1 << 20;

export async function sha256File(path: string | Buffer): Promise<{ sha256: string; bytes: number }> {
  const { size } = await stat(path);
  if (size <= SMALL_FILE_BYTES) {
    const buf = await readFile(path);
    return { sha256: createHash("sha256").update(buf).digest("hex"), bytes: buf.length };
  }
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), bytes };
}

/**
 * Every regular file under `dir` (symlinks are listed, never followed), as sorted relative
 * paths. Names are read as bytes and escaped (src/text/names.ts): an agent's file name may be
 * any bytes, and `bundlePath(dir, rel)` turns a listed path back into the file's real path.
 */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: Buffer, rel: Buffer | null): Promise<void> {
    for (const entry of await readdir(d, { withFileTypes: true, encoding: "buffer" })) {
      const name = entry.name as unknown as Buffer;
      const full = Buffer.concat([d, SLASH, name]);
      const childRel = rel ? Buffer.concat([rel, SLASH, name]) : name;
      if (entry.isDirectory()) await walk(full, childRel);
      else if (entry.isFile() || entry.isSymbolicLink()) out.push(escapeBytes(childRel));
    }
  }
  await walk(Buffer.from(dir), null);
  return out.sort();
}

const SLASH = Buffer.from("/");

/** The real path of a file `listFiles` listed (escaped names back to their bytes). */
export function bundlePath(dir: string, rel: string): Buffer {
  return Buffer.concat([Buffer.from(dir), SLASH, unescapeToBytes(rel)]);
}

export async function isSymlink(path: string | Buffer): Promise<boolean> {
  return (await lstat(path)).isSymbolicLink();
}

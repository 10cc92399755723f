// A bundle's trip from a worker's disk to the coordinator's, through the database: every
// file the bundle has (as its manifest lists them, plus manifest.json and the attestation),
// byte for byte, symlinks as their target text. On arrival the rows are hostile input: a
// worker (or anyone who can write the table) may send `../x`, absolute paths, a path through
// a symlink, duplicates, or far too much. unpackBundle refuses all of those before writing
// anything, writes only into a fresh directory, and creates symlinks last so no write can
// pass through one. What arrives is then verified like any bundle (hashes, signature).
import { lstat, mkdir, readFile, readlink, symlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { bundlePath, listFiles } from "../evidence/files.ts";
import { unescapeToBytes } from "../text/names.ts";

export interface WireFile {
  /** The bundle-relative path as listFiles escapes it. */
  path: string;
  kind: "file" | "symlink";
  content: Buffer;
}

export const MAX_BUNDLE_BYTES = 256 * 1024 * 1024;
export const MAX_BUNDLE_FILES = 50_000;

/** Every file and symlink under the run directory. */
export async function packBundle(runDir: string): Promise<WireFile[]> {
  const out: WireFile[] = [];
  let total = 0;
  for (const rel of await listFiles(runDir)) {
    const full = bundlePath(runDir, rel);
    const st = await lstat(full);
    const content = st.isSymbolicLink() ? await readlink(full, { encoding: "buffer" }) : await readFile(full);
    total += content.length;
    if (total > MAX_BUNDLE_BYTES) throw new Error(`the bundle ${runDir} is larger than ${MAX_BUNDLE_BYTES} bytes; it cannot travel through the queue`);
    out.push({ path: rel, kind: st.isSymbolicLink() ? "symlink" : "file", content });
  }
  if (out.length > MAX_BUNDLE_FILES) throw new Error(`the bundle ${runDir} has more than ${MAX_BUNDLE_FILES} files`);
  return out;
}

/** Why these rows cannot be a bundle, or null. Pure. */
export function wireProblem(files: WireFile[]): string | null {
  if (files.length > MAX_BUNDLE_FILES) return `more than ${MAX_BUNDLE_FILES} files`;
  let total = 0;
  const seen = new Set<string>();
  const links: string[] = [];
  for (const f of files) {
    total += f.content.length;
    if (total > MAX_BUNDLE_BYTES) return `more than ${MAX_BUNDLE_BYTES} bytes`;
    if (f.kind !== "file" && f.kind !== "symlink") return `entry ${JSON.stringify(f.path)} has an unknown kind`;
    const bytes = unescapeToBytes(f.path);
    if (bytes.length === 0 || bytes.includes(0) || bytes[0] === 0x2f) return `entry ${JSON.stringify(f.path)} is not a relative path`;
    const segments = bytes.toString("latin1").split("/");
    if (segments.some((s) => s === "" || s === "." || s === "..")) return `entry ${JSON.stringify(f.path)} leaves or re-enters its directory`;
    const key = bytes.toString("latin1");
    if (seen.has(key)) return `entry ${JSON.stringify(f.path)} is listed twice`;
    seen.add(key);
    if (f.kind === "symlink") links.push(key);
  }
  // No entry may sit under a symlink (a write there would follow it out of the bundle).
  for (const l of links) {
    for (const k of seen) if (k.startsWith(`${l}/`)) return `entry ${JSON.stringify(k)} lies under the symlink ${JSON.stringify(l)}`;
  }
  return null;
}

/** Writes the rows into `dest`, which must not exist yet. Throws with the reason when refused. */
export async function unpackBundle(dest: string, files: WireFile[]): Promise<void> {
  const problem = wireProblem(files);
  if (problem) throw new Error(`the submitted bundle is refused: ${problem}`);
  await mkdir(dirname(dest), { recursive: true });
  await mkdir(dest); // EEXIST: never write into a directory that is already there
  for (const f of files.filter((x) => x.kind === "file")) {
    const full = bundlePath(dest, f.path);
    await mkdir(parentOf(full), { recursive: true });
    await writeFile(full, f.content, { flag: "wx" });
  }
  for (const f of files.filter((x) => x.kind === "symlink")) {
    const full = bundlePath(dest, f.path);
    await mkdir(parentOf(full), { recursive: true });
    await symlink(f.content, full);
  }
}

function parentOf(full: Buffer): Buffer {
  const i = full.lastIndexOf(0x2f);
  return full.subarray(0, i);
}

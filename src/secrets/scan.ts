// Scans a run directory for leaked secrets: every regular file (streamed in chunks),
// the decompressed content of gzip files, every object of every git repository under it
// (loose and packed, reachable or not), and file names and symlink targets. Symlinks are
// never followed, so nothing outside the directory is read. Findings name the file and
// the form of the leak, never the value.
import { createTextRedactor } from "./redact-text.ts";
import { spawn } from "node:child_process";
import { constants, createReadStream, createWriteStream } from "node:fs";
import { copyFile, link, lstat, mkdir, mkdtemp, open, readdir, readlink, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip, createGunzip } from "node:zlib";
import { MultiMatcher, StreamMatcher } from "./matcher.ts";
import { escapeBytes } from "../text/names.ts";
import { Redactor } from "./redactor.ts";
import { secretNeedles, type SecretNeedle } from "./variants.ts";

export interface Finding {
  /** Path relative to the scanned directory (for git objects: the repository's git dir). */
  file: string;
  /** `<part>/<encoding>`, e.g. `password/base64@1`. Never the value. */
  form: string;
  /** Where inside the file: plain bytes, decompressed gzip content, a git object, the file's name or a symlink's target. */
  in?: "file" | "gzip" | "git-object" | "name" | "symlink-target";
  /** Git object id, for `in: "git-object"`. */
  object?: string;
}

export interface Redaction {
  file: string;
  action: "redacted" | "gzip-rewritten" | "deleted";
  detail?: string;
}

export interface ScanResult {
  files: number;
  findings: Finding[];
  /** Bytes read (plain files) plus bytes decompressed and git object bytes. */
  bytes: number;
  gitObjects: number;
  redactions?: Redaction[];
  /** Files that could not be read (permission, vanished): named, so a reader knows the scan is partial. */
  errors: string[];
}

export interface ScanOptions {
  /** Replace occurrences in place with `[REDACTED]`; delete what cannot be edited. */
  redact?: boolean;
  /** Chunk size for streaming reads (default 4 MiB). */
  chunkBytes?: number;
}

const GZIP_MAGIC0 = 0x1f;
const GZIP_MAGIC1 = 0x8b;
const DEFAULT_CHUNK = 4 * 1024 * 1024;

class FindingSet {
  readonly list: Finding[] = [];
  #keys = new Set<string>();
  add(f: Finding): void {
    const key = `${f.file}\0${f.form}\0${f.in ?? ""}\0${f.object ?? ""}`;
    if (this.#keys.has(key)) return;
    this.#keys.add(key);
    this.list.push(f);
  }
}

interface Ctx {
  root: string;
  needles: SecretNeedle[];
  matcher: MultiMatcher;
  findings: FindingSet;
  chunk: number;
  bytes: number;
  files: number;
  gitObjects: number;
  gitDirs: string[];
  errors: string[];
  /** Escaped relative path → the walked path (latin1: one char per byte). */
  paths: Map<string, string>;
}

/** A walked path (latin1 string) as the bytes the file system knows it by. */
function fsPath(p: string): Buffer {
  return Buffer.from(p, "latin1");
}

export async function scanRunDir(dir: string, secrets: string[], opts: ScanOptions = {}): Promise<ScanResult> {
  const needles = secretNeedles(secrets.filter((s) => s.length > 0));
  const ctx: Ctx = {
    root: dir,
    needles,
    matcher: new MultiMatcher(needles.map((n) => n.needle)),
    findings: new FindingSet(),
    chunk: opts.chunkBytes ?? DEFAULT_CHUNK,
    bytes: 0,
    files: 0,
    gitObjects: 0,
    gitDirs: [],
    errors: [],
    paths: new Map(),
  };
  if (needles.length === 0) return { files: 0, findings: [], bytes: 0, gitObjects: 0, errors: [] };
  const rootStat = await lstat(dir);
  if (!rootStat.isDirectory()) throw new Error(`not a directory: ${dir}`);
  await walk(ctx, Buffer.from(dir).toString("latin1"));
  for (const gitDir of ctx.gitDirs) await scanGitObjects(ctx, gitDir);
  const result: ScanResult = {
    files: ctx.files,
    findings: ctx.findings.list,
    bytes: ctx.bytes,
    gitObjects: ctx.gitObjects,
    errors: ctx.errors,
  };
  if (opts.redact && result.findings.length > 0) result.redactions = await redactFindings(ctx, result.findings);
  // A secret in a file's NAME must not come back through the findings' own paths.
  const redact = createTextRedactor(secrets);
  result.findings = result.findings.map((f) => ({ ...f, file: redact(f.file) }));
  result.errors = result.errors.map(redact);
  if (result.redactions) result.redactions = result.redactions.map((r) => ({ ...r, file: redact(r.file), detail: r.detail === undefined ? undefined : redact(r.detail) }));
  return result;
}

function scanText(ctx: Ctx, text: string, file: string, where: Finding["in"]): void {
  const buf = Buffer.from(text);
  ctx.matcher.scan(buf, (idx) => ctx.findings.add({ file, form: ctx.needles[idx]!.form, in: where }));
}

function looksLikeGitDir(names: Set<string>): boolean {
  return names.has("HEAD") && names.has("objects") && names.has("refs");
}

/** Names are read as bytes (an agent's file name may be any bytes) and reported escaped. */
async function walk(ctx: Ctx, dir: string, relDir: Buffer | null = null): Promise<void> {
  let entries;
  try {
    entries = await readdir(Buffer.from(dir, "latin1"), { withFileTypes: true, encoding: "buffer" });
  } catch (e) {
    ctx.errors.push(`${relDir ? escapeBytes(relDir) : "."}: ${(e as Error).message}`);
    return;
  }
  const names = new Set(entries.map((e) => (e.name as unknown as Buffer).toString("latin1")));
  if (looksLikeGitDir(names)) ctx.gitDirs.push(fsPath(dir).toString("utf8"));
  for (const entry of entries) {
    const nameBytes = entry.name as unknown as Buffer;
    // Paths travel as latin1 strings (one char per byte) and become bytes again at each fs call.
    const path = join(dir, nameBytes.toString("latin1"));
    const relBytes = relDir ? Buffer.concat([relDir, Buffer.from("/"), nameBytes]) : nameBytes;
    const rel = escapeBytes(relBytes);
    ctx.paths.set(rel, path);
    ctx.matcher.scan(nameBytes, (idx) => ctx.findings.add({ file: rel, form: ctx.needles[idx]!.form, in: "name" }));
    if (entry.isSymbolicLink()) {
      // Never followed; its target text is scanned like a name.
      try {
        const target = await readlink(fsPath(path), { encoding: "buffer" });
        ctx.matcher.scan(target, (idx) => ctx.findings.add({ file: rel, form: ctx.needles[idx]!.form, in: "symlink-target" }));
      } catch {
        /* vanished */
      }
    } else if (entry.isDirectory()) {
      await walk(ctx, path, relBytes);
    } else if (entry.isFile()) {
      await scanFile(ctx, path, rel);
    }
    // FIFOs, sockets, devices: never opened (a FIFO would block the scan).
  }
}

async function scanFile(ctx: Ctx, path: string, rel: string): Promise<void> {
  let fh;
  try {
    // O_NOFOLLOW: a file swapped for a symlink after readdir is not followed.
    fh = await open(fsPath(path), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    ctx.errors.push(`${rel}: ${(e as Error).message}`);
    return;
  }
  ctx.files++;
  let gzip = path.endsWith(".gz");
  try {
    const st = await fh.stat();
    if (!st.isFile()) return;
    const keep = Math.max(0, ctx.matcher.maxLen - 1);
    const buf = Buffer.allocUnsafe(keep + ctx.chunk);
    let carry = 0;
    let first = true;
    for (;;) {
      const { bytesRead } = await fh.read(buf, carry, ctx.chunk, null);
      if (bytesRead === 0) break;
      if (first && bytesRead >= 2 && buf[0] === GZIP_MAGIC0 && buf[1] === GZIP_MAGIC1) gzip = true;
      first = false;
      ctx.bytes += bytesRead;
      const end = carry + bytesRead;
      const carried = carry;
      ctx.matcher.scan(
        buf,
        (idx, start) => {
          if (start + ctx.needles[idx]!.needle.length <= carried) return; // seen in the previous chunk
          ctx.findings.add({ file: rel, form: ctx.needles[idx]!.form, in: "file" });
        },
        end,
      );
      carry = Math.min(keep, end);
      buf.copy(buf, 0, end - carry, end);
    }
  } catch (e) {
    ctx.errors.push(`${rel}: ${(e as Error).message}`);
  } finally {
    await fh.close();
  }
  if (gzip) await scanGzip(ctx, path, rel);
}

async function scanGzip(ctx: Ctx, path: string, rel: string): Promise<void> {
  const sm = new StreamMatcher(ctx.matcher, (idx) => ctx.findings.add({ file: rel, form: ctx.needles[idx]!.form, in: "gzip" }));
  try {
    const source = (await open(fsPath(path), constants.O_RDONLY | constants.O_NOFOLLOW)).createReadStream();
    const gunzip = createGunzip();
    source.pipe(gunzip);
    source.on("error", (e) => gunzip.destroy(e));
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      ctx.bytes += chunk.length;
      sm.push(chunk);
    }
  } catch (e) {
    // Not really gzip, or truncated: what was decompressed so far was scanned.
    if (!/incorrect header check|unexpected end of file/.test((e as Error).message)) {
      ctx.errors.push(`${rel} (gzip): ${(e as Error).message}`);
    }
  }
}

/** Environment for git that ignores the user's and system config (no hooks, no helpers run). */
function gitEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    HOME: "/nonexistent",
    LC_ALL: "C",
  };
}

const LOOSE_DIR = /^[0-9a-f]{2}$/;
const LOOSE_NAME = /^[0-9a-f]{38}([0-9a-f]{24})?$/;
const PACK_NAME = /^pack-[0-9a-f]{40,64}\.(pack|idx)$/;

/**
 * A clean copy of a repository's object store for git to read: only regular files that are
 * loose objects or packs, hard-linked (copied across file systems) into a fresh bare
 * repository. A git dir inside a run directory was writable by the agent, and git run on it
 * directly would follow `objects/info/alternates` (into a protected repository), follow
 * symlinked objects out of the run, block forever on a FIFO posing as an object, and read
 * the agent's config (`include.path`). What is left out is named in `skipped`.
 */
async function shadowObjectStore(gitDir: string): Promise<{ dir: string; skipped: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), "cto-harness-scan-git-"));
  const skipped: string[] = [];
  await mkdir(join(dir, "objects", "pack"), { recursive: true });
  await mkdir(join(dir, "refs"), { recursive: true });
  await writeFile(join(dir, "HEAD"), "ref: refs/heads/main\n");
  const place = async (src: string, dest: string) => {
    try {
      await link(src, dest);
    } catch {
      await copyFile(src, dest);
    }
  };
  const objects = join(gitDir, "objects");
  const top = await lstat(objects).catch(() => null);
  if (!top?.isDirectory()) {
    if (top) skipped.push("objects (not a directory)");
    return { dir, skipped };
  }
  for (const entry of await readdir(objects, { withFileTypes: true })) {
    const sub = join(objects, entry.name);
    if (entry.isDirectory() && (LOOSE_DIR.test(entry.name) || entry.name === "pack")) {
      const isPack = entry.name === "pack";
      if (!isPack) await mkdir(join(dir, "objects", entry.name));
      for (const f of await readdir(sub, { withFileTypes: true })) {
        if (f.isFile() && (isPack ? PACK_NAME.test(f.name) : LOOSE_NAME.test(f.name))) {
          await place(join(sub, f.name), join(dir, "objects", entry.name, f.name));
        } else if (!(isPack && f.isFile())) {
          skipped.push(`objects/${entry.name}/${f.name}`);
        }
      }
    } else if (entry.isDirectory() && entry.name === "info") {
      for (const f of await readdir(sub)) if (f === "alternates" || f === "http-alternates") skipped.push(`objects/info/${f} (not followed)`);
    } else {
      skipped.push(`objects/${entry.name}`);
    }
  }
  return { dir, skipped };
}

/** Streams `git cat-file --batch-all-objects --batch` over a clean copy of the object store and scans each object's content. */
async function scanGitObjects(ctx: Ctx, gitDir: string): Promise<void> {
  const rel = relative(ctx.root, gitDir) || ".";
  let shadow: { dir: string; skipped: string[] };
  try {
    shadow = await shadowObjectStore(gitDir);
  } catch (e) {
    ctx.errors.push(`${rel} (git objects): cannot read the object store: ${(e as Error).message}`);
    return;
  }
  for (const s of shadow.skipped) ctx.errors.push(`${rel}/${s}: not a loose object or pack file; not read`);
  try {
    await catAllObjects(ctx, shadow.dir, rel);
  } finally {
    await rm(shadow.dir, { recursive: true, force: true });
  }
}

async function catAllObjects(ctx: Ctx, gitDir: string, rel: string): Promise<void> {
  const child = spawn(
    "git",
    ["-c", "safe.directory=*", "--git-dir", gitDir, "cat-file", "--batch-all-objects", "--batch", "--unordered"],
    { env: gitEnv(), stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => {
    if (stderr.length < 4000) stderr += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on("error", (e) => {
      stderr += e.message;
      resolve(null);
    });
    child.on("close", (code) => resolve(code));
  });
  // Parser state: reading a header line, or `remaining` content bytes of object `oid`.
  let header: Buffer = Buffer.alloc(0);
  let oid = "";
  let remaining = -1; // -1: expecting header; >= 0: content bytes left; then one "\n"
  let skipNewline = false;
  let sm: StreamMatcher | null = null;
  for await (const chunkAny of child.stdout) {
    let chunk = chunkAny as Buffer;
    while (chunk.length > 0) {
      if (skipNewline) {
        chunk = chunk.subarray(1);
        skipNewline = false;
        continue;
      }
      if (remaining < 0) {
        const nl = chunk.indexOf(10);
        if (nl === -1) {
          header = Buffer.concat([header, chunk]);
          break;
        }
        const line = Buffer.concat([header, chunk.subarray(0, nl)]).toString("latin1");
        header = Buffer.alloc(0);
        chunk = chunk.subarray(nl + 1);
        const parts = line.split(" ");
        if (parts.length < 3 || parts[1] === "missing") continue;
        oid = parts[0]!;
        remaining = Number(parts[2]);
        ctx.gitObjects++;
        const thisOid = oid;
        sm = new StreamMatcher(ctx.matcher, (idx) =>
          ctx.findings.add({ file: rel, form: ctx.needles[idx]!.form, in: "git-object", object: thisOid }),
        );
        if (remaining === 0) {
          remaining = -1;
          skipNewline = true;
        }
        continue;
      }
      const take = Math.min(remaining, chunk.length);
      sm!.push(chunk.subarray(0, take));
      ctx.bytes += take;
      remaining -= take;
      chunk = chunk.subarray(take);
      if (remaining === 0) {
        remaining = -1;
        skipNewline = true;
      }
    }
  }
  const code = await exited;
  if (code !== 0) ctx.errors.push(`${rel} (git objects): git cat-file failed: ${stderr.trim().slice(0, 500)}`);
}

// ---- redaction ----------------------------------------------------------------------

async function redactFindings(ctx: Ctx, findings: Finding[]): Promise<Redaction[]> {
  const out: Redaction[] = [];
  const byFile = new Map<string, Set<NonNullable<Finding["in"]>>>();
  const gitObjects = new Map<string, Set<string>>();
  for (const f of findings) {
    const where = f.in ?? "file";
    if (where === "git-object") {
      let set = gitObjects.get(f.file);
      if (!set) gitObjects.set(f.file, (set = new Set()));
      set.add(f.object!);
      continue;
    }
    let set = byFile.get(f.file);
    if (!set) byFile.set(f.file, (set = new Set()));
    set.add(where);
  }
  for (const [rel, wheres] of byFile) {
    const path = fsPath(ctx.paths.get(rel) ?? join(ctx.root, rel));
    try {
      if (wheres.has("name") || wheres.has("symlink-target")) {
        await rm(path, { recursive: true, force: true });
        out.push({ file: rel, action: "deleted", detail: "the name or link target itself held the secret" });
        continue;
      }
      if (wheres.has("file")) {
        await rewriteFile(path, [redactTransform(ctx.matcher)]);
        out.push({ file: rel, action: "redacted" });
      }
      if (wheres.has("gzip")) {
        try {
          await rewriteFile(path, [createGunzip(), redactTransform(ctx.matcher), createGzip()]);
          out.push({ file: rel, action: "gzip-rewritten", detail: "decompressed, redacted, recompressed" });
        } catch {
          await unlink(path);
          out.push({ file: rel, action: "deleted", detail: "gzip content could not be rewritten" });
        }
      }
    } catch (e) {
      await rm(path, { force: true, recursive: true });
      out.push({ file: rel, action: "deleted", detail: `redaction failed (${(e as Error).message})` });
    }
  }
  for (const [rel, oids] of gitObjects) out.push(...(await deleteGitObjects(ctx, join(ctx.root, rel), rel, oids)));
  return out;
}

// Variadic pipeline() has no overload for a list built at run time.
const pipe = pipeline as unknown as (...streams: unknown[]) => Promise<void>;

/** Streams `path` through `stages` into a temp file beside it, then renames it over the original. */
async function rewriteFile(path: Buffer, stages: unknown[]): Promise<void> {
  const st = await stat(path);
  const tmp = Buffer.concat([path, Buffer.from(`.redacting-${process.pid}`)]);
  try {
    const src = (await open(path, constants.O_RDONLY | constants.O_NOFOLLOW)).createReadStream();
    await pipe(src, ...stages, createWriteStream(tmp, { mode: st.mode & 0o777 }));
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

async function* redactGen(matcher: MultiMatcher, source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const r = new Redactor(matcher);
  for await (const chunk of source) {
    const out = r.push(chunk);
    if (out.length) yield out;
  }
  const tail = r.end();
  if (tail.length) yield tail;
}

function redactTransform(matcher: MultiMatcher) {
  return (source: AsyncIterable<Buffer>) => redactGen(matcher, source);
}

/** Deletes loose object files and whole packs that hold a leaking object (the repository may be left incomplete; that is noted). */
async function deleteGitObjects(ctx: Ctx, gitDir: string, rel: string, oids: Set<string>): Promise<Redaction[]> {
  const out: Redaction[] = [];
  for (const oid of oids) {
    const loose = join(gitDir, "objects", oid.slice(0, 2), oid.slice(2));
    try {
      await unlink(loose);
      out.push({ file: relative(ctx.root, loose), action: "deleted", detail: `git object ${oid} held the secret` });
    } catch {
      /* not loose */
    }
  }
  const packDir = join(gitDir, "objects", "pack");
  let packs: string[] = [];
  try {
    // Regular files only: a FIFO named *.idx would block the reader below.
    packs = (await readdir(packDir, { withFileTypes: true })).filter((e) => e.isFile() && e.name.endsWith(".idx")).map((e) => e.name);
  } catch {
    /* no packs */
  }
  for (const idx of packs) {
    const listed = await new Promise<string>((resolve) => {
      const child = spawn("git", ["show-index"], { env: gitEnv(), stdio: ["pipe", "pipe", "ignore"] });
      let text = "";
      child.stdout.on("data", (c: Buffer) => (text += c.toString()));
      child.on("error", () => resolve(""));
      child.on("close", () => resolve(text));
      createReadStream(join(packDir, idx)).pipe(child.stdin);
    });
    const inPack = [...oids].filter((oid) => listed.includes(` ${oid}`));
    if (inPack.length === 0) continue;
    const stem = idx.slice(0, -4);
    for (const name of await readdir(packDir)) {
      if (name.startsWith(`${stem}.`)) await rm(join(packDir, name), { force: true });
    }
    out.push({ file: relative(ctx.root, join(packDir, `${stem}.pack`)), action: "deleted", detail: `pack held ${inPack.length} leaking object(s); repository ${rel} may now be incomplete` });
  }
  return out;
}

// Scans a run directory for leaked secrets: every regular file (streamed in chunks),
// the decompressed content of gzip files, every object of every git repository under it
// (loose and packed, reachable or not), and file names and symlink targets. Symlinks are
// never followed, so nothing outside the directory is read. Findings name the file and
// the form of the leak, never the value.
// This file walks the directory; beside it are scan-context.ts (findings, the scan's state),
// git-objects.ts (the objects of git repositories) and redact-findings.ts (redaction in place).
import { constants } from "node:fs";
import { lstat, open, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { createGunzip } from "node:zlib";
import { escapeBytes } from "../text/names.ts";
import { scanGitObjects } from "./git-objects.ts";
import { MultiMatcher, StreamMatcher } from "./matcher.ts";
import { createTextRedactor } from "./redact-text.ts";
import { redactFindings, type Redaction } from "./redact-findings.ts";
import { FindingSet, fsPath, type Ctx, type Finding } from "./scan-context.ts";
import { secretNeedles } from "./variants.ts";

export type { Finding } from "./scan-context.ts";
export type { Redaction } from "./redact-findings.ts";

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

// Redacting what a scan found, in place: a file is streamed through the redactor into a
// temp file that replaces it, gzip content is decompressed, redacted and recompressed, and
// what cannot be edited (a secret in a name or link target, a git object) is deleted. Apart
// from the scan because it is the only part that changes the run directory, and runs only
// when asked (`redact`).
import { spawn } from "node:child_process";
import { constants, createReadStream, createWriteStream } from "node:fs";
import { open, readdir, rename, rm, stat, unlink } from "node:fs/promises";
import { join, relative } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip, createGunzip } from "node:zlib";
import { gitEnv } from "./git-objects.ts";
import type { MultiMatcher } from "./matcher.ts";
import { Redactor } from "./redactor.ts";
import { fsPath, type Ctx, type Finding } from "./scan-context.ts";

export interface Redaction {
  file: string;
  action: "redacted" | "gzip-rewritten" | "deleted";
  detail?: string;
}

export async function redactFindings(ctx: Ctx, findings: Finding[]): Promise<Redaction[]> {
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

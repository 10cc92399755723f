// Scanning every object of a git repository found in the run directory (loose and packed,
// reachable or not) through `git cat-file`, run on a clean copy of the object store so that
// nothing the agent could have planted in the git dir (alternates, symlinks, FIFOs, config)
// is followed or obeyed. Apart from the file walk because it is a separate source of bytes
// with its own hazards; the redaction reuses `gitEnv`.
import { spawn } from "node:child_process";
import { copyFile, link, lstat, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { StreamMatcher } from "./matcher.ts";
import type { Ctx } from "./scan-context.ts";

/** Environment for git that ignores the user's and system config (no hooks, no helpers run). */
export function gitEnv(): NodeJS.ProcessEnv {
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
export async function scanGitObjects(ctx: Ctx, gitDir: string): Promise<void> {
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

// Shared helpers for end-to-end run tests: temp dirs, agent scripts, canary scans.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";

const made: string[] = [];

/** A fresh temp dir, removed after the test file (cleanup-setup.ts). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `cto-${prefix}-`));
  made.push(dir);
  return dir;
}

/** Removes every dir tempDir() made so far (an agent may have chmod-ed things: made writable first). */
export function removeTempDirs(): void {
  const dirs = made.splice(0);
  if (dirs.length === 0) return;
  spawnSync("chmod", ["-R", "u+rwX", ...dirs], { stdio: "ignore" });
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

/** Writes an executable agent script (sh or node by shebang) and returns its path. */
export function agentScript(dir: string, name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, body);
  chmodSync(p, 0o755);
  return p;
}

export function admissionFile(dir: string, pairs: string[]): string {
  const p = join(dir, "admission.yaml");
  writeFileSync(p, `admitted:\n${pairs.map((x) => `  - ${x}\n`).join("")}`);
  return p;
}

/** Minimal environment for runs in tests: never the developer's whole environment. */
export function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, ...extra };
}

/** All files under dir (gunzipping .gz), as [relative path, content] pairs. */
export function allFileContents(dir: string): [string, Buffer][] {
  const out: [string, Buffer][] = [];
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = statSync(full, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(full, r);
      else if (st.isFile()) {
        let buf = readFileSync(full);
        if (buf[0] === 0x1f && buf[1] === 0x8b) {
          try {
            buf = gunzipSync(buf);
          } catch {
            /* not gzip after all */
          }
        }
        out.push([r, buf]);
      }
    }
  };
  walk(dir, "");
  return out;
}

/** Encoded forms of a canary fragment, independent of the product's own scanner. */
export function canaryForms(value: string): string[] {
  const b = Buffer.from(value);
  return [
    value,
    encodeURIComponent(value),
    JSON.stringify(value).slice(1, -1).replace(/\//g, "\\/"),
    b.toString("hex"),
    b.toString("base64").slice(0, -4),
    b.toString("base64url").slice(0, -4),
  ].filter((f) => f.length >= 8);
}

export function findCanary(dir: string, fragments: string[]): string[] {
  const hits: string[] = [];
  const files = allFileContents(dir);
  for (const frag of fragments) {
    for (const form of canaryForms(frag)) {
      for (const [path, buf] of files) if (buf.includes(form)) hits.push(`${path}: ${form}`);
    }
  }
  return hits;
}

/** True when pid runs (a zombie, killed but not yet reaped by init, counts as dead). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

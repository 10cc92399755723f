// The leak scanner against a bundle with the canary planted in every encoding a leak
// takes: each planted file must be found, a clean bundle must give zero findings, and
// redaction must leave no trace.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { scanRunDir } from "../src/secrets/scan.ts";
import { describeFindings, renderLeakMarker } from "../src/secrets/report.ts";

const CANARY = "http://canaryuser:canary-pass-8361@canary-host.example:8000/v1?token=tok-canary-5521";
const KEY = "sk-canary-key-0123456789abcdef";
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "cto-scan-"));
  dirs.push(d);
  return d;
}

const filler = (n: number) => Buffer.from("lorem ipsum dolor sit amet\n".repeat(n));
const b64At = (s: string, align: number) => Buffer.concat([Buffer.from("xyz".slice(0, align)), Buffer.from(s)]).toString("base64");
const urlSafe = (s: string) => s.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@e", "-c", "init.defaultBranch=main", ...args], { cwd, stdio: "pipe" });

/** Each planted file: name → content carrying the canary in one encoding only. */
function plantedFiles(): Record<string, Buffer> {
  return {
    "raw.log": Buffer.concat([filler(10), Buffer.from(`connecting to ${CANARY}\n`), filler(10)]),
    "urlenc.txt": Buffer.from(`GET /proxy?target=${encodeURIComponent(CANARY)} HTTP/1.1\n`),
    "json.jsonl": Buffer.from(JSON.stringify({ url: CANARY }).replace(/\//g, "\\/") + "\n"),
    "hex.txt": Buffer.from(`dump: ${Buffer.from(CANARY).toString("hex")}\n`),
    "hexupper.txt": Buffer.from(`DUMP ${Buffer.from(CANARY).toString("hex").toUpperCase()}\n`),
    "page.html": Buffer.from(`<a href="${CANARY.replace(/&/g, "&amp;")}">x</a>\n`),
    "b64-0.txt": Buffer.from(`blob=${b64At(CANARY, 0)}\n`),
    "b64-1.txt": Buffer.from(`blob=${b64At(CANARY, 1)}\n`),
    "b64-2.txt": Buffer.from(`blob=${b64At(CANARY, 2)}\n`),
    "b64url-0.txt": Buffer.from(`blob=${urlSafe(b64At(CANARY, 0))}\n`),
    "b64url-1.txt": Buffer.from(`blob=${urlSafe(b64At(CANARY, 1))}\n`),
    "b64url-2.txt": Buffer.from(`blob=${urlSafe(b64At(CANARY, 2))}\n`),
    "basic.txt": Buffer.from(`Authorization: Basic ${Buffer.from("canaryuser:canary-pass-8361").toString("base64")}\n`),
    "host-only.html": Buffer.from(`<p>served by canary-host.example</p>\n`),
    "token-only.txt": Buffer.from(`token tok-canary-5521\n`),
    "key.log": Buffer.from(`auth: Bearer ${KEY}\n`),
    "nested/deep/trace.jsonl.gz": gzipSync(Buffer.concat([filler(1000), Buffer.from(JSON.stringify({ u: CANARY })), filler(1000)])),
    "nested/gzip-no-ext": gzipSync(Buffer.from(`x ${CANARY} y`)),
  };
}

describe("scanRunDir", () => {
  it("finds the canary in every encoding, in gzip content, and in git objects", async () => {
    const dir = tmp();
    for (const [name, content] of Object.entries(plantedFiles())) {
      mkdirSync(join(dir, name, ".."), { recursive: true });
      writeFileSync(join(dir, name), content);
    }
    // A repo where the secret was committed, then removed from history and garbage-collected
    // into a pack (unreachable objects kept by `gc --keep-unreachable`: stays in the pack).
    const repo = join(dir, "workspace");
    mkdirSync(repo);
    git(repo, "init", "-q");
    writeFileSync(join(repo, "README.md"), "hello\n");
    git(repo, "add", ".");
    git(repo, "commit", "-qm", "init");
    writeFileSync(join(repo, "config.json"), JSON.stringify({ base: CANARY }));
    git(repo, "add", ".");
    git(repo, "commit", "-qm", "oops");
    git(repo, "reset", "-q", "--hard", "HEAD~1");
    git(repo, "reflog", "expire", "--expire=now", "--all");
    git(repo, "gc", "-q", "--prune=never");
    // And a dangling loose blob never referenced by anything.
    const repo2 = join(dir, "other");
    mkdirSync(repo2);
    git(repo2, "init", "-q");
    execFileSync("git", ["hash-object", "-w", "--stdin"], { cwd: repo2, input: `leak ${KEY}\n` });

    const res = await scanRunDir(dir, [CANARY, KEY]);
    const filesWithFindings = new Set(res.findings.map((f) => f.file));
    for (const name of Object.keys(plantedFiles())) expect(filesWithFindings, name).toContain(name);
    expect(res.findings.some((f) => f.file === "nested/deep/trace.jsonl.gz" && f.in === "gzip")).toBe(true);
    expect(res.findings.some((f) => f.file === "nested/gzip-no-ext" && f.in === "gzip")).toBe(true);
    expect(res.findings.some((f) => f.file === "workspace/.git" && f.in === "git-object")).toBe(true);
    expect(res.findings.some((f) => f.file === "other/.git" && f.in === "git-object")).toBe(true);
    // The planted encodings are named.
    const formsOf = (file: string) => res.findings.filter((f) => f.file === file).map((f) => f.form);
    expect(formsOf("b64-1.txt").some((f) => f.endsWith("base64@1"))).toBe(true);
    // Where the url-safe alphabet gives the same bytes, the needle carries the standard name.
    expect(formsOf("b64url-2.txt").some((f) => /base64(-url)?@2$/.test(f))).toBe(true);
    expect(formsOf("basic.txt")).toContain("userinfo/basic-auth");
    expect(formsOf("hex.txt")).toContain("value/hex");
    expect(formsOf("urlenc.txt")).toContain("value/url-encoded");
    expect(res.errors).toEqual([]);
    // Findings and the texts never carry the value or its parts.
    const texts = [JSON.stringify(res), describeFindings(res.findings), renderLeakMarker(res.findings)].join("\n");
    for (const part of ["canary-pass-8361", "canaryuser", "tok-canary-5521", KEY]) expect(texts).not.toContain(part);
  });

  it("finds a secret that spans a chunk boundary exactly once per file", async () => {
    const dir = tmp();
    const buf = Buffer.alloc(3 * 1024 * 1024, "a");
    Buffer.from(CANARY).copy(buf, 1024 * 1024 - 20);
    writeFileSync(join(dir, "big.bin"), buf);
    const res = await scanRunDir(dir, [CANARY], { chunkBytes: 1024 * 1024 });
    expect(res.findings.filter((f) => f.form === "value/raw")).toHaveLength(1);
  });

  it("gives zero findings on a clean bundle (with near-misses)", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "a.log"), "connecting to http://127.0.0.1:43211/v1 with token run-token-xyz\n2024-05-01 canary-host\n");
    writeFileSync(join(dir, "b.gz"), gzipSync(filler(1000)));
    const repo = join(dir, "ws");
    mkdirSync(repo);
    git(repo, "init", "-q");
    writeFileSync(join(repo, "f.txt"), "clean\n");
    git(repo, "add", ".");
    git(repo, "commit", "-qm", "c");
    const res = await scanRunDir(dir, [CANARY, KEY]);
    expect(res.findings).toEqual([]);
    expect(res.files).toBeGreaterThan(5);
    expect(res.gitObjects).toBeGreaterThanOrEqual(3);
  });

  it("does not follow symlinks out of the directory but scans their targets' text", async () => {
    const outside = tmp();
    writeFileSync(join(outside, "secret.txt"), CANARY);
    const dir = tmp();
    symlinkSync(join(outside, "secret.txt"), join(dir, "link"));
    let res = await scanRunDir(dir, [CANARY]);
    expect(res.findings).toEqual([]);
    symlinkSync(`/x/${KEY}`, join(dir, "link2"));
    res = await scanRunDir(dir, [CANARY, KEY]);
    expect(res.findings).toEqual([expect.objectContaining({ file: "link2", in: "symlink-target" })]);
  });

  it("redacts plain files in place, rewrites gzip, deletes leaking git objects", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "a.log"), `one ${CANARY} two canary-pass-8361 three\n${Buffer.from(CANARY).toString("base64")}\n`);
    writeFileSync(join(dir, "b.gz"), gzipSync(Buffer.from(`x ${CANARY} y`)));
    const repo = join(dir, "ws");
    mkdirSync(repo);
    git(repo, "init", "-q");
    execFileSync("git", ["hash-object", "-w", "--stdin"], { cwd: repo, input: `leak ${KEY}\n` });
    writeFileSync(join(repo, "f.txt"), "clean\n");
    git(repo, "add", "f.txt");
    git(repo, "commit", "-qm", "c");
    git(repo, "gc", "-q", "--prune=never");
    const first = await scanRunDir(dir, [CANARY, KEY], { redact: true });
    expect(first.findings.length).toBeGreaterThan(0);
    expect(first.redactions!.map((r) => r.action)).toEqual(expect.arrayContaining(["redacted", "gzip-rewritten", "deleted"]));
    const text = readFileSync(join(dir, "a.log"), "utf8");
    expect(text).toContain("one [REDACTED] two [REDACTED] three");
    expect(text).not.toContain("canary");
    const again = await scanRunDir(dir, [CANARY, KEY]);
    expect(again.findings).toEqual([]);
    // The clean history is still there (only the leaking object went).
    expect(git(repo, "log", "--oneline").toString()).toContain("c");
  });
});

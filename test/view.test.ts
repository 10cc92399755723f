// The viewer's server without a browser: loopback only, read-only, hostile bundles (markup in
// strings, symbolic links planted in place of evidence, traversal in URLs), live fingerprints,
// and the `view` / `compare` command lines' errors.
import { spawn, spawnSync } from "node:child_process";
import { request } from "node:http";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startViewer, type Viewer } from "../src/view/server.ts";
import { escapeHtml, html, hrefOf } from "../src/view/html.ts";
import { isSafeName, readTextInside } from "../src/catalog/safe-read.ts";
import { readCatalog } from "../src/catalog/catalog.ts";
import { missingConfigReport, passReport, writeBundle } from "./data/make-bundle.ts";
import { snapshotDir } from "./helpers/hostile.ts";
import { tempDir } from "./helpers/run-env.ts";

const BIN = fileURLToPath(new URL("../bin/cto-harness", import.meta.url));
const MARKUP = `<script>alert(1)</script><img src=x onerror=alert(2)>`;

describe("html escaping", () => {
  it("escapes every interpolation unless it is markup we built", () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&\``)).toBe("&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;");
    expect(html`<p title="${MARKUP}">${MARKUP}</p>`.value).not.toContain("<script>");
    expect(html`<div>${html`<b>${"<i>"}</b>`}</div>`.value).toBe("<div><b>&lt;i&gt;</b></div>");
    expect(hrefOf("run", "../etc", "a/b?c")).toBe("/run/..%2Fetc/a%2Fb%3Fc");
  });

  it("accepts only plain names as path components", () => {
    for (const bad of ["..", ".", "a/b", "", "a\0b", "..x", "x..y", ".hidden", "a b"]) expect(isSafeName(bad), bad).toBe(false);
    for (const good of ["20261201T223105Z-r1-string-slugify-7427", "loop-20261201T223105Z-12-1", "baseline", "report.json"]) expect(isSafeName(good), good).toBe(true);
  });
});

describe("viewer server over hostile bundles", () => {
  let root: string;
  let viewer: Viewer;
  let before: Record<string, string>;
  const get = (path: string) => fetch(viewer.url.replace(/\/$/, "") + path);
  /** A request exactly as written (fetch normalises paths and will not send a foreign Host). */
  const rawGet = (path: string, host: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: viewer.port, path, headers: { host } }, (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.end();
    });

  beforeAll(async () => {
    root = tempDir("view-hostile");
    const outside = tempDir("view-outside");
    await writeBundle(join(root, "20260601T000000Z-r1-string-slugify-1"), passReport("20260601T000000Z-r1-string-slugify-1", { failure_detail: MARKUP, agent_result: { protocol_valid: true, source: "result-file", status: "completed", summary: MARKUP } }));
    await writeBundle(join(root, "20260601T000001Z-r1-string-slugify-2"), missingConfigReport("20260601T000001Z-r1-string-slugify-2"));
    // A report planted as a link to a file outside the runs dir, and a run directory that is a link.
    await writeBundle(join(outside, "secret-run"), passReport("OUTSIDE-SECRET-RUN"));
    mkdirSync(join(root, "20260601T000002Z-planted-3"));
    symlinkSync(join(outside, "secret-run", "report.json"), join(root, "20260601T000002Z-planted-3", "report.json"));
    writeFileSync(join(root, "20260601T000002Z-planted-3", "task.json"), "{}\n");
    symlinkSync(join(outside, "secret-run"), join(root, "20260601T000003Z-linked-4"));
    mkdirSync(join(root, "bad name <b>"));
    writeFileSync(join(root, "bad name <b>", "report.json"), "{}");
    before = snapshotDir(root);
    viewer = await startViewer({ root, port: 0 });
  });
  afterAll(() => viewer?.close());

  it("listens on 127.0.0.1 only and answers only to its own Host", async () => {
    expect(viewer.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect((await get("/")).status).toBe(200);
    // DNS rebinding: a page of attacker.example resolving to 127.0.0.1 sends its own Host.
    expect((await rawGet("/", "attacker.example")).status).toBe(421);
    expect((await rawGet("/", `attacker.example:${viewer.port}`)).status).toBe(421);
    expect((await rawGet("/", `localhost:${viewer.port}`)).status).toBe(200);
    expect((await fetch(viewer.url, { method: "POST", body: "x" })).status).toBe(405);
  });

  it("sends a CSP that allows no external load and no script but its own", async () => {
    const res = await get("/");
    const policy = res.headers.get("content-security-policy")!;
    expect(policy).toContain("default-src 'none'");
    expect(policy).toMatch(/script-src 'nonce-[A-Za-z0-9+/=]+'/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const body = await res.text();
    expect(body).not.toMatch(/(src|href)="https?:/);
  });

  it("shows markup from a bundle as text", async () => {
    const body = await (await get("/run/20260601T000000Z-r1-string-slugify-1")).text();
    expect(body).not.toContain("<script>alert(1)");
    expect(body).not.toContain("<img src=x");
    expect(body).toContain(escapeHtml(MARKUP));
  });

  it("never follows a planted link: the run is listed with its problem, the outside file never shown", async () => {
    const cat = await readCatalog(root);
    expect(cat.runs.map((r) => r.dir_name)).toEqual(["20260601T000002Z-planted-3", "20260601T000001Z-r1-string-slugify-2", "20260601T000000Z-r1-string-slugify-1"]);
    expect(cat.runs[0]!.problem).toMatch(/symbolic link is never followed/);
    const index = await (await get("/")).text();
    expect(index).not.toContain("OUTSIDE-SECRET-RUN");
    expect(index).toContain("20260601T000002Z-planted-3");
    expect((await get("/run/20260601T000003Z-linked-4")).status).toBe(404);
    expect(await readTextInside(root, ["20260601T000003Z-linked-4", "report.json"])).toBeNull();
  });

  it("refuses traversal and odd names in URLs", async () => {
    for (const p of ["/run/..%2F..%2Fetc", "/run/a/..%2F..", "/run/bad%20name%20%3Cb%3E", "/loop/%2E%2E%2F", "/api/fingerprint/..%2F..", "/run/%E0%A4%A"]) {
      const res = await get(p);
      expect([400, 404], p).toContain(res.status);
      expect(await res.text()).not.toContain("root:");
    }
    for (const p of ["/run/../../../../etc/passwd", "/run/%2e%2e/%2e%2e/etc/passwd", "/run/..\\..\\etc"]) {
      const res = await rawGet(p, `127.0.0.1:${viewer.port}`);
      expect([400, 404], p).toContain(res.status);
      expect(res.body).not.toContain("root:");
    }
  });

  it("a fingerprint changes when the directory does (what the live pages poll)", async () => {
    const dir = tempDir("view-live");
    mkdirSync(join(dir, "loop-x"));
    writeFileSync(join(dir, "loop-x", "attempts.jsonl"), "{}\n");
    const v = await startViewer({ root: dir, port: 0 });
    try {
      const fp = async () => ((await (await fetch(`${v.url}api/fingerprint/loop-x`)).json()) as { fingerprint: string }).fingerprint;
      const first = await fp();
      expect(await fp()).toBe(first);
      writeFileSync(join(dir, "loop-x", "attempts.jsonl"), "{}\n{}\n");
      expect(await fp()).not.toBe(first);
    } finally {
      await v.close();
    }
  });

  it("wrote nothing into the runs directory", () => {
    expect(snapshotDir(root)).toEqual(before);
  });
});

describe("view and compare command lines", () => {
  const cli = (args: string[]) => spawnSync(BIN, args, { encoding: "utf8", env: { PATH: process.env.PATH }, timeout: 60_000 });

  it("usage errors say what was wrong and what to do (exit 64)", async () => {
    const dir = tempDir("view-cli");
    const run = join(dir, "20260601T000000Z-r1-string-slugify-1");
    await writeBundle(run, passReport("20260601T000000Z-r1-string-slugify-1"));
    const cases: [string[], RegExp][] = [
      [["view", join(dir, "nope")], /no runs directory .*run 'cto-harness demo' first/],
      [["view", dir, "--port", "http"], /--port must be a number/],
      [["view", run], /is a run directory; give the runs directory that holds it/],
      [["compare", join(dir, "nope"), dir], /no such directory/],
      [["compare", tempDir("view-empty"), dir], /holds no run bundles/],
    ];
    for (const [args, want] of cases) {
      const r = cli(args);
      expect(r.status, args.join(" ")).toBe(64);
      expect(r.stderr).toMatch(want);
    }
  });

  it("view --port 0 --json prints its URL and serves the runs directory", async () => {
    const dir = tempDir("view-cli-serve");
    await writeBundle(join(dir, "20260601T000000Z-r1-string-slugify-1"), passReport("20260601T000000Z-r1-string-slugify-1"));
    const child = spawn(BIN, ["view", dir, "--port", "0", "--json"], { env: { PATH: process.env.PATH }, stdio: ["ignore", "pipe", "pipe"] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          if (out.includes("\n")) resolve(out.split("\n")[0]!);
        });
        child.once("exit", (code) => reject(new Error(`view exited ${code}`)));
      });
      const { url } = JSON.parse(line) as { url: string };
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(await (await fetch(url)).text()).toContain("20260601T000000Z-r1-string-slugify-1");
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  });
});

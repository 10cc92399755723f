// `cto-harness view` in a real browser: Debian's chromium, headless, driven by playwright-core
// (nothing downloaded), over real bundles made by the real pipeline (test/helpers/view-bundles.ts).
// Checks that each page shows the facts of its bundle, that hostile strings stay text, that
// the viewer never writes into the runs directory, and that a running loop's page updates.
// CTO_HARNESS_SCREENSHOTS=DIR also saves the screenshots the README shows (docs/img).
import { existsSync, appendFileSync, cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser, type Page } from "playwright-core";
import { startViewer, type Viewer } from "../src/view/server.ts";
import { makeViewBundles, XSS_FILE, XSS_SUMMARY, type ViewBundles } from "./helpers/view-bundles.ts";
import { snapshotDir } from "./helpers/hostile.ts";
import { tempDir } from "./helpers/run-env.ts";

const CHROMIUM = process.env.CTO_HARNESS_CHROMIUM ?? "/usr/bin/chromium";
const HAVE_BROWSER = existsSync(CHROMIUM);
const SHOTS = process.env.CTO_HARNESS_SCREENSHOTS;
const BIN = fileURLToPath(new URL("../bin/cto-harness", import.meta.url));

// In CI the browser is installed by .ci/run: a missing one is a failure there, never a skip.
if (!HAVE_BROWSER && process.env.CI) {
  describe("view in a browser", () => {
    it("needs chromium (.ci/run installs it)", () => {
      throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CTO_HARNESS_CHROMIUM`);
    });
  });
}

describe.skipIf(!HAVE_BROWSER)("view in a browser (chromium, headless)", () => {
  let b: ViewBundles;
  let viewer: Viewer;
  let browser: Browser;
  let page: Page;
  let before: Record<string, string>;
  const pwned = () => page.evaluate(() => (globalThis as unknown as { __pwned?: unknown }).__pwned ?? null);
  const shot = async (name: string) => {
    if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: name !== "run" });
  };
  const open = async (path: string) => {
    const res = await page.goto(viewer.url.replace(/\/$/, "") + path);
    expect(res?.status()).toBe(200);
  };

  beforeAll(async () => {
    b = await makeViewBundles();
    before = snapshotDir(b.root);
    viewer = await startViewer({ root: b.root, port: 0 });
    // Its own HOME, so chromium's crash-report and NSS directories land in the test's temp dir, not the user's.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"], env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tempDir("view-browser-home") } });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await viewer?.close();
  });

  it("the run list shows every run, marks simulated ones, and filters", async () => {
    await open("/");
    expect(await page.locator("#runs tbody tr").count()).toBe(3 + 4);
    const passRow = page.locator(`#runs tr[data-run="${b.pass.run_id}"]`);
    expect(await passRow.locator(".status").innerText()).toBe("pass");
    expect(await passRow.locator(".simulated").count()).toBe(1);
    const blockedRow = page.locator(`#runs tr[data-run="${b.blocked.run_id}"]`);
    expect(await blockedRow.innerText()).toContain("provider local config unavailable");
    expect(await blockedRow.locator(".simulated").count()).toBe(0);
    expect(await page.locator("#loops tbody tr").count()).toBe(2);
    await shot("index");
    await page.selectOption('select[name="status"]', "blocked");
    await page.click('form.filters button[type="submit"]');
    await page.waitForURL(/status=blocked/);
    const rows = page.locator("#runs tbody tr");
    expect(await rows.count()).toBe(1);
    expect(await rows.first().getAttribute("data-run")).toBe(b.blocked.run_id);
  });

  it("a pass: its whole proof chain, verify computed live, requests, patch, tests, trajectory", async () => {
    await open(`/run/${b.pass.run_id}`);
    expect(await page.locator("h1 .status").innerText()).toBe("pass");
    expect(await page.locator("#simulated-banner").isVisible()).toBe(true);
    expect(await page.locator("#verify-verdict").innerText()).toBe("verified");
    const types = await page.locator("#timeline li").evaluateAll((lis) => lis.map((li) => li.getAttribute("data-type")));
    for (const t of ["run_started", "admission_checked", "provider_config_checked", "probe_finished", "baseline_finished", "case_process_started", "model_request", "case_process_exited", "result_parsed", "tests_finished", "secret_scan_finished", "run_finished"]) {
      expect(types, t).toContain(t);
    }
    expect(types.indexOf("baseline_finished")).toBeLessThan(types.indexOf("case_process_started"));
    expect(await page.locator('#timeline li[data-type="probe_finished"]').innerText()).toContain(`${b.pass.probe!.classification} → allow`);
    expect(await page.locator("#requests tbody tr").count()).toBe(b.pass.model_traffic.requests);
    expect(await page.locator("#probe").innerText()).toContain(b.pass.probe!.classification);
    expect(await page.locator("#baseline").innerText()).toContain("yes: the unfixed fixture fails its tests");
    expect(await page.locator("#judge").innerText()).toContain("6 expected, 6 ran, 6 passed");
    expect(await page.locator("#patch .add").count()).toBeGreaterThan(0);
    expect(await page.locator("#patch").innerText()).toContain("src/slugify.js");
    expect(await page.locator("#tests-stdout").innerText()).toMatch(/fail 0/);
    expect(await page.locator('#trajectory .traj[data-kind="tool_call"]').count()).toBeGreaterThan(0);
    await shot("run");
    // The baseline's own bundle is a page of its own.
    await page.click('#baseline a:has-text("open the baseline")');
    await page.waitForURL(/\/baseline$/);
    expect(await page.locator("h1 .status").innerText()).toBe("fail");
  });

  it("a blocked run: the gate, its marker with advice, and no agent", async () => {
    await open(`/run/${b.blocked.run_id}`);
    expect(await page.locator("h1 .status").innerText()).toBe("blocked");
    expect(await page.locator("#failure-reason").innerText()).toBe("provider local config unavailable");
    expect(await page.locator("#simulated-banner").count()).toBe(0);
    expect(await page.locator("#verify-verdict").innerText()).toBe("verified");
    expect(await page.locator('#timeline li[data-type="provider_config_checked"]').innerText()).toContain("NOT configured");
    expect(await page.locator('#timeline li[data-type="case_process_started"]').count()).toBe(0);
    const marker = readFileSync(join(b.root, b.blocked.run_id, "backend", "provider-local-config-unavailable.txt"), "utf8");
    expect(await page.locator("#markers").innerText()).toContain("backend/provider-local-config-unavailable.txt");
    const shown = await page.locator("#markers").innerText();
    for (const line of marker.split("\n").filter((l) => l.trim())) expect(shown).toContain(line.trim());
    await shot("blocked");
  });

  it("a tampering fail: the finding, and the agent's markup shown as text, never run", async () => {
    expect(b.tampered.status).toBe("fail");
    expect(b.tampered.failure_reason).toBe("tampering detected");
    await open(`/run/${b.tampered.run_id}`);
    expect(await page.locator("#failure-reason").innerText()).toBe("tampering detected");
    const rules = await page.locator("#judge table.findings tbody tr td:first-child").allInnerTexts();
    expect(rules.length).toBeGreaterThan(0);
    expect(rules).toEqual(b.tampered.judge!.findings.map((f) => f.rule));
    expect(await page.locator("#agent-summary").innerText()).toBe(XSS_SUMMARY);
    expect(await page.locator("#changes").innerText()).toContain(XSS_FILE);
    expect(await page.locator("#agent-summary img, #agent-summary script, #changes img").count()).toBe(0);
    expect(await pwned()).toBeNull();
    await shot("tampering");
  });

  it("a loop: pass@k, cells linking to runs, failure reasons, costs and charts", async () => {
    await open(`/loop/${b.loopA}`);
    expect(await page.locator("#loop-state").innerText()).toBe("finished");
    const row = page.locator('#passk tr[data-pair="r1-string-slugify|builtin"]');
    const cells = await row.locator("td").allInnerTexts();
    expect(cells.slice(0, 4)).toEqual(["r1-string-slugify", "builtin", "2", "0"]);
    expect(cells).toContain("100.0 %");
    expect(await page.locator("#chart-engines").count()).toBe(1);
    expect(await page.locator("#chart-tokens rect").count()).toBe(2);
    const links = page.locator("#grid a");
    expect(await links.count()).toBe(2);
    await shot("loop");
    await links.first().click();
    await page.waitForURL(/\/run\/loop-builtin\//);
    expect(await page.locator("h1 .status").innerText()).toBe("pass");
    await open(`/loop/${b.loopB}`);
    expect(await page.locator("#reasons").innerText()).toContain("fail: tests failed");
  });

  it("a compare of two loops: paired table, intervals, McNemar and 'too small to tell'", async () => {
    await open(`/loop/${b.loopA}`);
    await page.selectOption('select[name="b"]', b.loopB);
    await page.click('form[action="/compare"] button');
    await page.waitForURL(/\/compare\?a=loop-builtin&b=loop-noop/);
    expect(await page.locator("#verdict").getAttribute("data-kind")).toBe("too_small");
    expect(await page.locator("#verdict").innerText()).toContain("Too small to tell A and B apart");
    const a = await page.locator('#sides tr[data-side="A"] td').allInnerTexts();
    const bb = await page.locator('#sides tr[data-side="B"] td').allInnerTexts();
    expect(a.slice(2, 4)).toEqual(["2/2", "100.0 %"]);
    expect(bb.slice(2, 4)).toEqual(["0/2", "0.0 %"]);
    expect(a[4]).toBe("34.2 % – 100.0 %");
    expect(await page.locator("#mcnemar").innerText()).toContain("p = 0.500");
    expect(await page.locator("#warnings").innerText()).toContain("simulated");
    await shot("compare");
  });

  it("cto-harness compare --json says the same for the two loop directories", () => {
    const r = spawnSync(BIN, ["compare", join(b.root, b.loopA), join(b.root, b.loopB), "--json"], { encoding: "utf8", env: { PATH: process.env.PATH }, timeout: 60_000 });
    expect(r.status).toBe(0);
    const c = JSON.parse(r.stdout);
    expect(c).toMatchObject({ schema: "cto-harness/compare@1", a: { judged: 2, passed: 2, interval_95: [0.3424, 1] }, b: { judged: 2, passed: 0 }, paired: { pairs: 2, a_only: 2, b_only: 0 }, verdict: { kind: "too_small" } });
    expect(c.mcnemar.p_value).toBe(0.5);
    expect(c.a.tokens_per_solved).toBeGreaterThan(0);
  });

  it("the viewer's JSON compare also takes the runs outside loops as a side", async () => {
    const res = await fetch(`${viewer.url}api/compare?a=${b.loopA}&b=${encodeURIComponent("(runs outside loops)")}`);
    expect(res.status).toBe(200);
    const c = (await res.json()) as { b: { runs: number; judged: number; passed: number }; paired: { pairs: number } };
    // Outside loops: the pass, the blocked run (not judged) and the tampering fail.
    expect(c.b).toMatchObject({ runs: 3, judged: 2, passed: 1 });
    expect(c.paired.pairs).toBe(2);
    expect((await fetch(`${viewer.url}api/compare?a=${b.loopA}&b=nope`)).status).toBe(404);
  });

  it("never wrote a byte into the runs directory", () => {
    expect(snapshotDir(b.root)).toEqual(before);
  });

  it("evidence edited after the fact: compare leaves the run out, the loop page believes the run's report over the loop's records", async () => {
    const edited = join(b.root, "loop-edited");
    cpSync(join(b.root, b.loopA), edited, { recursive: true });
    const runId = JSON.parse(readFileSync(join(edited, "attempts.jsonl"), "utf8").split("\n")[0]!).run_id as string;
    // A report rewritten to say fail (the manifest no longer matches), and the loop's records left saying pass.
    const reportPath = join(edited, runId, "report.json");
    writeFileSync(reportPath, readFileSync(reportPath, "utf8").replace('"status": "pass"', '"status": "fail"').replace('"failure_reason": null', '"failure_reason": "tests failed"'));
    const c = (await (await fetch(`${viewer.url}api/compare?a=loop-edited&b=${b.loopB}`)).json()) as { a: { judged: number; unverified: number }; warnings: string[] };
    expect(c.a).toMatchObject({ judged: 1, unverified: 1 });
    expect(c.warnings.join("\n")).toContain("does not verify");
    await open("/loop/loop-edited");
    expect(await page.locator("#disagreements").innerText()).toContain("the loop recorded pass, its run's report says fail (tests failed)");
    await open(`/run/loop-edited/${runId}`);
    expect(await page.locator("#verify-verdict").innerText()).toBe("NOT verified");
    expect(await page.locator("#verify-problems").innerText()).toContain("report.json");
  });

  it("a run still being written: its page and the run list update by themselves when its report arrives", async () => {
    const id = "20261231T000000Z-r1-string-slugify-99";
    const dir = join(b.root, id);
    cpSync(join(b.root, b.pass.run_id), dir, { recursive: true });
    const report = readFileSync(join(dir, "report.json"), "utf8");
    rmSync(join(dir, "report.json"));
    await open(`/run/${id}`);
    expect(await page.locator("main").innerText()).toContain("still being written");
    expect(await page.locator('#timeline li[data-type="run_started"]').count()).toBe(1);
    writeFileSync(join(dir, "report.json"), report);
    await page.waitForSelector("#verify", { timeout: 15_000 });
    expect(await page.locator("h1 .status").innerText()).toBe("pass");
    rmSync(join(dir, "report.json"));
    await open("/");
    expect(await page.locator(`#runs tr[data-run="${id}"]`).innerText()).toContain("running (no report.json yet)");
    writeFileSync(join(dir, "report.json"), report);
    await page.waitForSelector(`#runs tr[data-run="${id}"] .status`, { timeout: 15_000 });
  });

  it("a running loop's page updates itself as attempts finish", async () => {
    // A copy of a finished loop, rolled back to "one attempt done" (the test writes, never the viewer).
    const live = join(b.root, "loop-live");
    cpSync(join(b.root, b.loopB), live, { recursive: true });
    rmSync(join(live, "summary.md"));
    rmSync(join(live, "summary.json"));
    const lines = readFileSync(join(live, "attempts.jsonl"), "utf8").trim().split("\n");
    writeFileSync(join(live, "attempts.jsonl"), lines[0] + "\n");
    await open("/loop/loop-live");
    expect(await page.locator("#loop-state").innerText()).toContain("running");
    expect(await page.locator("#loop-counts").innerText()).toContain("1 fail");
    appendFileSync(join(live, "attempts.jsonl"), lines[1] + "\n");
    // A function, not a string: the page's CSP forbids eval, as it should.
    type Doc = { document: { querySelector(sel: string): { textContent: string | null } | null } };
    await page.waitForFunction(() => (globalThis as unknown as Doc).document.querySelector("#loop-counts")?.textContent?.includes("2 fail"), null, { timeout: 15_000 });
    expect(await page.locator("#loop-counts").innerText()).toContain("0 not run yet");
  });
});

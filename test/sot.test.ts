import { describe, expect, it, beforeEach, afterEach } from "vitest";
import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { parseSot, SotFormatError } from "../src/sot/parse.ts";
import { looksFlattened, reflowRecord, splitBullets } from "../src/sot/reflow.ts";
import { isRealPass, ruleFor } from "../src/sot/rules.ts";
import { renderCheckText, sotCheck, sotEvidence } from "../src/sot/run-check.ts";
import { makeReport, missingConfigReport, passReport, writeBundle } from "./data/make-bundle.ts";

const SEED = join(import.meta.dirname, "data/seed-sot.md");
const ROOT = join(import.meta.dirname, "..");
const CANARY_URL = "http://canary-user:canary-pass-7731@canary-spark.invalid:8000/v1?token=canarytok3n9988";
const cleanEnv: NodeJS.ProcessEnv = {};

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), "sot-test-"));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const lineOf = (r: Awaited<ReturnType<typeof sotCheck>>, fragment: string) => {
  const l = r.items[0]!.lines.find((x) => x.text.includes(fragment));
  if (!l) throw new Error(`no line containing ${fragment}`);
  return l;
};

describe("parseSot", () => {
  it("reads the seed record: one blocked work item, its acceptance lines and four dated evidence sections", async () => {
    const rec = parseSot(await readFile(SEED, "utf8"));
    expect(rec.frontMatter.status).toBe("draft");
    expect(rec.title).toBe("CTO Case Spark Endpoint Config Issues");
    expect(rec.items.map((i) => i.id)).toEqual(["CTO-WORK-030"]);
    const item = rec.items[0]!;
    expect(item.status).toBe("blocked");
    expect(item.title).toBe("Spark Local Provider Endpoint Config");
    expect(item.acceptance).toHaveLength(14);
    expect(item.acceptance[1]!.text).toBe("Missing endpoint config blocks before `case_process_started`.");
    expect(item.blockedBy.map((b) => b.text)).toEqual(["Real Case Stage 2 pass evidence.", "Case agent-result protocol compatibility."]);
    expect(item.currentEvidence).toHaveLength(2);
    expect(item.description).toMatch(/^Supply explicit Spark/);
    expect(rec.evidence.map((e) => [e.title, e.date])).toEqual([
      ["Spark vLLM Runtime Evidence", "2026-06-01"],
      ["Spark Response Shape Gate Evidence", "2026-06-01"],
      ["Spark Response Probe Budget Correction", "2026-06-01"],
      ["Hermes Case Qwen Loop Evidence", "2026-06-01"],
    ]);
    // Line numbers point into the real file.
    const lines = (await readFile(SEED, "utf8")).split("\n");
    expect(lines[item.acceptance[0]!.line - 1]).toContain("is supplied at runtime");
  });

  it("refuses the one-line dump form and says what was expected", async () => {
    // The user's seed where shared/ is beside the checkout, else our copy joined onto one line.
    const dump = await readFile(join(ROOT, "..", "shared/seeds/000_185912ad2905af7e.txt"), "utf8").catch(() => null);
    const text = dump ?? (await readFile(SEED, "utf8")).replace(/\n+/g, " ");
    expect(() => parseSot(text)).toThrow(SotFormatError);
    expect(() => parseSot(text)).toThrow(/single line.*## <ID> - <title>/);
  });

  it("the user's one-line seed reflows to the same work items, acceptance lines and evidence sections as its line-broken copy", async () => {
    const broken = parseSot(await readFile(SEED, "utf8"));
    const dump = await readFile(join(ROOT, "..", "shared/seeds/000_185912ad2905af7e.txt"), "utf8").catch(() => null);
    // The seed itself where shared/ is beside the checkout; the same words joined onto one line always.
    const flats = [(await readFile(SEED, "utf8")).replace(/\s+/g, " "), ...(dump ? [dump] : [])];
    for (const flat of flats) {
      expect(looksFlattened(flat)).toBe(true);
      const rec = parseSot(reflowRecord(flat));
      expect(rec.frontMatter).toEqual(broken.frontMatter);
      expect(rec.title).toBe(broken.title);
      const items = (r: typeof rec) =>
        r.items.map((i) => ({
          id: i.id,
          title: i.title,
          status: i.status,
          description: i.description,
          acceptance: i.acceptance.map((l) => l.text),
          blockedBy: i.blockedBy.map((l) => l.text),
          currentEvidence: i.currentEvidence.map((l) => l.text),
          other: i.otherBlocks,
        }));
      expect(items(rec)).toEqual(items(broken));
      const evidence = (r: typeof rec) => r.evidence.map((e) => ({ title: e.title, date: e.date, bullets: e.bullets.map((b) => b.text) }));
      expect(evidence(rec)).toEqual(evidence(broken));
      expect(rec.items[0]!.acceptance).toHaveLength(14);
      expect(rec.evidence).toHaveLength(4);
    }
    expect(looksFlattened(await readFile(SEED, "utf8"))).toBe(false);
  });

  it("reflow keeps a dash inside a bullet and splits only after a bullet's end", () => {
    expect(splitBullets("- Ran a - b comparison. - Second `x`. - Third")).toEqual(["Ran a - b comparison.", "Second `x`.", "Third"]);
  });

  it("refuses a work item without a Status line", () => {
    expect(() => parseSot("## CTO-WORK-1 - Thing\n\nAcceptance:\n\n- something\n")).toThrow(/CTO-WORK-1 \(line 1\) has no `Status:` line/);
  });

  it("recognises the seed's checkable lines and leaves the rest manual", async () => {
    const rec = parseSot(await readFile(SEED, "utf8"));
    const kinds = rec.items[0]!.acceptance.map((l) => ruleFor(l.text)?.kind ?? "manual");
    expect(kinds).toEqual([
      "supplied_at_runtime",
      "blocks_before_process",
      "marker",
      "no_endpoint_leak",
      "report_field",
      "report_field",
      "report_field",
      "no_fallback",
      "real_pass_exists",
      "manual",
      "protected_path_never_read",
      "baseline_required",
      "blocked_until",
      "blocked_until",
    ]);
  });
});

describe("sot check", () => {
  it("with no evidence: every checkable line unproven, 'remains blocked until' lines satisfied, blocked status is honest (ok)", async () => {
    const r = await sotCheck(SEED, tmp, { env: cleanEnv });
    const it0 = r.items[0]!;
    expect(it0.counts).toEqual({ proven: 0, unproven: 11, satisfied: 2, manual: 1 });
    for (const subject of ["CTO-WORK-016", "CTO-WORK-022"]) {
      const l = lineOf(r, `\`${subject}\` remains blocked until`);
      expect(l.verdict).toBe("satisfied");
      expect(l.note).toMatch(/^condition not met yet; /);
    }
    expect(renderCheckText(r)).toMatch(/✓ line \d+: `CTO-WORK-016` remains blocked until[^\n]*\n\s+satisfied: condition not met yet/);
    expect(r.over_claims).toEqual([]);
    expect(r.ready_to_promote).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it("the seed's own evidence (a real fail run and a missing-config run) proves the lines it should and no more", async () => {
    await writeBundle(join(tmp, "20260601T022535Z-r1-string-slugify-1"), makeReport({ run_id: "20260601T022535Z-r1-string-slugify-1", source_admission_status: "not_admitted" }));
    await writeBundle(join(tmp, "nested/20260601T020000Z-r1-string-slugify-2"), missingConfigReport("20260601T020000Z-r1-string-slugify-2"));
    const r = await sotCheck(SEED, tmp, { env: cleanEnv });
    expect(r.bundles.verified).toBe(2);
    expect(r.bundles.rejected).toEqual([]);
    expect(lineOf(r, "blocks before").verdict).toBe("proven");
    // The leak line rests on the run that reached the endpoint, not on the one blocked before contact.
    expect(lineOf(r, "Endpoint values are not written").runs).toEqual([join(tmp, "20260601T022535Z-r1-string-slugify-1")]);
    expect(lineOf(r, "blocks before").runs[0]).toContain("nested/20260601T020000Z-r1-string-slugify-2");
    expect(lineOf(r, "writes `backend/provider-local-config-unavailable.txt`").verdict).toBe("proven");
    expect(lineOf(r, "`case_model_provider`: `qwen-local`").verdict).toBe("proven");
    expect(lineOf(r, "`case_model`: `qwen3.6-35b-a3b`").verdict).toBe("proven");
    expect(lineOf(r, "`case_model_admission_status`").verdict).toBe("proven");
    expect(lineOf(r, "no fallback").verdict).toBe("proven");
    expect(lineOf(r, "is supplied at runtime").verdict).toBe("proven");
    // No pass yet: the Stage 2 lines stay unproven and the item is not ready.
    expect(lineOf(r, "Real Case Stage 2 pass evidence exists").verdict).toBe("unproven");
    expect(lineOf(r, "`CTO-WORK-016` remains blocked").verdict).toBe("satisfied");
    expect(lineOf(r, "Same-run fake baseline").verdict).toBe("unproven");
    expect(lineOf(r, "No Target Repository path").verdict).toBe("unproven");
    expect(r.ready_to_promote).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it("a run blocked before contacting the endpoint proves nothing about endpoint values staying out of bundles", async () => {
    await writeBundle(join(tmp, "blocked-only"), missingConfigReport("blocked-only"));
    const r = await sotCheck(SEED, tmp, { env: cleanEnv });
    expect(lineOf(r, "Endpoint values are not written").verdict).toBe("unproven");
    expect(lineOf(r, "Endpoint values are not written").why).toMatch(/reached the real endpoint/);
  });

  it("a real verified Case pass with its failed baseline makes the item ready to promote", async () => {
    await writeBundle(join(tmp, "pass-1"), passReport("pass-1"));
    await writeBundle(join(tmp, "blocked-1"), missingConfigReport("blocked-1"));
    await writeBundle(join(tmp, "refused-1"), makeReport({
      run_id: "refused-1", status: "blocked", failure_reason: "source not admitted", source_admission_status: "not_admitted",
      case_process_started: false, backend_exit_code: null, probe: null, tests: null, baseline_comparison: null, endpoint_kind: "simulated",
      model_traffic: { requests: 0, models_seen: [], prompt_tokens: 0, completion_tokens: 0, fallback_detected: false },
    }));
    const r = await sotCheck(SEED, tmp, { env: cleanEnv });
    expect(r.items[0]!.counts).toEqual({ proven: 13, unproven: 0, satisfied: 0, manual: 1 });
    expect(lineOf(r, "Real Case Stage 2 pass evidence exists").runs).toEqual([join(tmp, "pass-1")]);
    expect(r.ready_to_promote).toEqual(["CTO-WORK-030"]);
  });

  it("--rejudge: a real pass whose patch cannot be re-judged against its fixture proves nothing", async () => {
    // The hand-made pass claims fixture digests no fixture has: re-judging must refuse it.
    await writeBundle(join(tmp, "pass-1"), passReport("pass-1"));
    await writeBundle(join(tmp, "blocked-1"), missingConfigReport("blocked-1"));
    await writeBundle(join(tmp, "refused-1"), makeReport({
      run_id: "refused-1", status: "blocked", failure_reason: "source not admitted", source_admission_status: "not_admitted",
      case_process_started: false, backend_exit_code: null, probe: null, tests: null, baseline_comparison: null, endpoint_kind: "simulated",
      model_traffic: { requests: 0, models_seen: [], prompt_tokens: 0, completion_tokens: 0, fallback_detected: false },
    }));
    const plain = await sotCheck(SEED, tmp, { env: cleanEnv });
    expect(plain.ready_to_promote).toEqual(["CTO-WORK-030"]);
    const r = await sotCheck(SEED, tmp, { env: cleanEnv, rejudge: true });
    expect(r.ready_to_promote).toEqual([]);
    expect(lineOf(r, "Real Case Stage 2 pass evidence exists").verdict).toBe("unproven");
    expect(JSON.stringify(r.bundles.rejected)).toMatch(/cannot re-judge|different fixture/);
  });

  it("a 'remains blocked until' line is satisfied while its subject is blocked and flagged only when violated", async () => {
    const item = (status: string) => `\n## CTO-WORK-016 - Stage 2 Case validation\n\nStatus: ${status}\n\nAcceptance:\n\n- Harness report proves \`case_model\`: \`qwen3.6-35b-a3b\`.\n`;
    await mkdir(join(tmp, "runs"));
    const file = join(tmp, "record.md");
    await writeFile(file, (await readFile(SEED, "utf8")) + item("blocked."));
    const held = await sotCheck(file, join(tmp, "runs"), { env: cleanEnv });
    expect(lineOf(held, "`CTO-WORK-016` remains blocked").verdict).toBe("satisfied");
    expect(lineOf(held, "`CTO-WORK-016` remains blocked").note).toBe("condition not met yet; CTO-WORK-016 is still blocked, as required");
    expect(held.ok).toBe(true);
    await writeFile(file, (await readFile(SEED, "utf8")) + item("in-progress."));
    const broken = await sotCheck(file, join(tmp, "runs"), { env: cleanEnv });
    expect(lineOf(broken, "`CTO-WORK-016` remains blocked").verdict).toBe("unproven");
    expect(lineOf(broken, "`CTO-WORK-016` remains blocked").why).toMatch(/^violated: CTO-WORK-016 has status 'in-progress' but the condition is not met/);
    expect(broken.ok).toBe(false);
  });

  it("'No Target Repository path may be inspected or copied' is proven by the protected_target_path_never_read validator's bundle", async () => {
    const runs = join(tmp, "validator-runs");
    const v = spawnSync(join(ROOT, "bin/cto-harness"), ["validate", "protected_target_path_never_read", "--runs-dir", runs, "--json"], {
      encoding: "utf8",
      env: { PATH: process.env.PATH, HOME: tmp },
      timeout: 120_000,
    });
    expect(v.status).toBe(0);
    const r = await sotCheck(SEED, runs, { env: cleanEnv });
    expect(r.bundles.rejected).toEqual([]);
    const l = lineOf(r, "No Target Repository path");
    expect(l.verdict).toBe("proven");
    expect(l.runs[0]).toMatch(/protected_target_path_never_read\//);
    // A run that reports the refusal but still started the agent contradicts the line.
    await writeBundle(join(runs, "bad"), makeReport({ run_id: "bad", status: "blocked", failure_reason: "source not admitted", source_admission_status: "not_admitted" }));
    const bad = await sotCheck(SEED, runs, { env: cleanEnv });
    expect(lineOf(bad, "No Target Repository path").verdict).toBe("unproven");
    expect(lineOf(bad, "No Target Repository path").why).toMatch(/still started the agent/);
  });

  it("a tampered bundle is rejected with the reason and proves nothing", async () => {
    const dir = await writeBundle(join(tmp, "tampered"), passReport("tampered"));
    const report = JSON.parse(await readFile(join(dir, "report.json"), "utf8"));
    report.case_model = "qwen3.6-35b-a3b "; // any edit after the manifest was written
    await writeFile(join(dir, "report.json"), JSON.stringify(report));
    const r = await sotCheck(SEED, tmp, { env: cleanEnv });
    expect(r.bundles.verified).toBe(0);
    expect(r.bundles.rejected).toHaveLength(1);
    expect(r.bundles.rejected[0]!.problems.join(" ")).toMatch(/modified file: report\.json/);
    expect(lineOf(r, "Real Case Stage 2 pass evidence exists").verdict).toBe("unproven");
    expect(r.items[0]!.counts.proven).toBe(0);
  });

  it("a simulated pass proves harness behaviour but nothing about the real endpoint", async () => {
    await writeBundle(join(tmp, "sim-pass"), passReport("sim-pass", { endpoint_kind: "simulated" }));
    const r = await sotCheck(SEED, tmp, { env: cleanEnv });
    expect(lineOf(r, "Real Case Stage 2 pass evidence exists").verdict).toBe("unproven");
    const field = lineOf(r, "`case_model_provider`: `qwen-local`");
    expect(field.verdict).toBe("unproven");
    expect(field.why).toMatch(/simulated runs prove nothing about a real endpoint/);
    expect(lineOf(r, "is supplied at runtime").verdict).toBe("unproven");
    expect(lineOf(r, "no fallback").verdict).toBe("unproven");
    expect(lineOf(r, "`CTO-WORK-016` remains blocked").verdict).toBe("satisfied");
    // The baseline rule is about the harness: a simulated pass does show it applied.
    expect(lineOf(r, "Same-run fake baseline").verdict).toBe("proven");
    expect(r.ready_to_promote).toEqual([]);
  });

  it("flags a fallback seen in a real run", async () => {
    await writeBundle(
      join(tmp, "fallback"),
      makeReport({
        run_id: "fallback",
        failure_reason: "model fallback detected",
        model_traffic: { requests: 2, models_seen: ["qwen3.6-35b-a3b", "claude-sonnet-4-6"], prompt_tokens: 1, completion_tokens: 1, fallback_detected: true },
      }),
    );
    const r = await sotCheck(SEED, tmp, { env: cleanEnv });
    expect(lineOf(r, "no fallback").verdict).toBe("unproven");
    expect(lineOf(r, "no fallback").why).toMatch(/fallback seen in/);
  });

  it("flags an over-claimed status (done with unproven lines) and a 'remains blocked until' violation", async () => {
    const text = (await readFile(SEED, "utf8")).replace("Status: blocked.", "Status: done.") +
      "\n## CTO-WORK-016 - Stage 2 Case validation\n\nStatus: in-progress.\n\nAcceptance:\n\n- Harness report proves `case_model`: `qwen3.6-35b-a3b`.\n";
    const file = join(tmp, "record.md");
    await writeFile(file, text);
    await mkdir(join(tmp, "runs"));
    const r = await sotCheck(file, join(tmp, "runs"), { env: cleanEnv });
    expect(r.ok).toBe(false);
    const claims = r.over_claims.map((o) => [o.item, o.status]);
    expect(claims).toContainEqual(["CTO-WORK-030", "done"]);
    expect(claims).toContainEqual(["CTO-WORK-016", "in-progress"]);
    expect(r.over_claims.find((o) => o.item === "CTO-WORK-016")!.reason).toMatch(/remains blocked until/);
  });

  it("flags a record containing the endpoint value (or a part/encoding of it) without printing it", async () => {
    const host = new URL(CANARY_URL).host;
    const b64 = Buffer.from("canary-user:canary-pass-7731").toString("base64");
    const text = (await readFile(SEED, "utf8")) + `\n## Leaky Evidence - 2026-06-02\n\n- Endpoint was ${host} today.\n- Auth header Basic ${b64}.\n`;
    const file = join(tmp, "leaky.md");
    await writeFile(file, text);
    await mkdir(join(tmp, "runs"));
    const r = await sotCheck(file, join(tmp, "runs"), { env: { CTO_HARNESS_CASE_LOCAL_BASE_URL: CANARY_URL } });
    expect(r.ok).toBe(false);
    expect(r.record_leaks.length).toBeGreaterThanOrEqual(2);
    const lines = text.split("\n");
    expect(r.record_leaks.some((l) => lines[l.line - 1]!.includes(host))).toBe(true);
    expect(r.record_leaks.some((l) => lines[l.line - 1]!.includes(b64))).toBe(true);
    const json = JSON.stringify(r);
    for (const s of ["canary-pass-7731", "canary-spark.invalid", "canarytok3n9988", b64]) expect(json).not.toContain(s);
    expect(lineOf(r, "Endpoint values are not written").verdict).toBe("unproven");
  });
});

describe("sot evidence", () => {
  it("renders a dated section in the record's style from a verified bundle", async () => {
    const dir = await writeBundle(join(tmp, "r1"), makeReport({ run_id: "r1", source_admission_status: "not_admitted" }));
    const r = await sotEvidence(dir, { env: cleanEnv });
    if (!r.ok) throw new Error(r.problems.join("; "));
    expect(r.text).toMatch(/^## Harness Case Run Evidence - 2026-06-01\n\n/);
    expect(r.text).toContain("- Report status: `fail`.");
    expect(r.text).toContain("- Failure reason: `case agent result protocol failed`.");
    expect(r.text).toContain("- Source admission status: `not_admitted`.");
    expect(r.text).toContain("- The harness recorded no changed files.");
    expect(r.text).toContain("- The patch artifact was empty.");
    expect(r.text).toContain(`- Run artifact directory: \`${dir}\`.`);
    // The evidence round-trips: the section parses as a dated evidence section.
    const rec = parseSot(`## X-1 - x\n\nStatus: blocked.\n\n${r.text}`);
    expect(rec.evidence[0]!.bullets.length).toBeGreaterThan(15);
  });

  it("a run blocked before contact (URL variable unset) never claims the endpoint was supplied or real", async () => {
    const dir = await writeBundle(join(tmp, "blocked"), missingConfigReport("blocked"));
    const r = await sotEvidence(dir, { env: cleanEnv });
    if (!r.ok) throw new Error(r.problems.join("; "));
    expect(r.text).not.toMatch(/supplied only through runtime environment/);
    expect(r.text).not.toContain("Endpoint kind: `real`");
    expect(r.text).toContain("- Endpoint: not contacted (no probe, no model request)");
    expect(r.text).toMatch(/The endpoint was not contacted: the run ended before any probe or model request \(no endpoint value was supplied\)/);
    expect(r.text).toContain("- Isolation: `bwrap` requested; the agent was never started in it.");
    expect(r.text).not.toMatch(/same-run baseline checked/);
    // A run that reached the endpoint (probe or traffic) does say so.
    const reached = await writeBundle(join(tmp, "reached"), makeReport({ run_id: "reached" }));
    const ok = await sotEvidence(reached, { env: cleanEnv });
    if (!ok.ok) throw new Error(ok.problems.join("; "));
    expect(ok.text).toContain("- Endpoint kind: `real`.");
    expect(ok.text).toContain("- The endpoint value was supplied only through runtime environment and is not recorded in this evidence.");
    expect(ok.text).toContain("- Isolation: `bwrap`.");
  });

  it("refuses a tampered bundle", async () => {
    const dir = await writeBundle(join(tmp, "r2"), makeReport({ run_id: "r2" }));
    await writeFile(join(dir, "backend/stdout.log"), "edited\n");
    const r = await sotEvidence(dir, { env: cleanEnv });
    expect(r.ok).toBe(false);
  });
});

describe("sot CLI", () => {
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(join(ROOT, "bin/cto-harness"), args, { encoding: "utf8", env: { PATH: process.env.PATH, HOME: tmp, ...env } });

  it("exits 64 for a missing file and for a record not in the form, saying what was expected", async () => {
    const missing = cli(["sot", "check", join(tmp, "nope.md"), "--runs", tmp]);
    expect(missing.status).toBe(64);
    expect(missing.stderr).toMatch(/cannot read planning record/);
    const prose = join(tmp, "prose.md");
    await writeFile(prose, "# Notes\n\nNothing structured here.\n");
    const bad = cli(["sot", "check", prose, "--runs", tmp]);
    expect(bad.status).toBe(64);
    expect(bad.stderr).toMatch(/expected a planning record/);
  });

  it("checks a one-line record after reflowing it, and says so on stderr", async () => {
    const flat = join(tmp, "flat.md");
    await writeFile(flat, (await readFile(SEED, "utf8")).replace(/\n+/g, " "));
    await mkdir(join(tmp, "runs"));
    const r = cli(["sot", "check", flat, "--runs", join(tmp, "runs"), "--json"]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/is a single line \(its line breaks were lost\); reflowed it/);
    const doc = JSON.parse(r.stdout);
    expect(doc.record_reflowed).toBe(true);
    expect(doc.items.map((i: { id: string }) => i.id)).toEqual(["CTO-WORK-030"]);
    expect(doc.items[0].lines).toHaveLength(14);
  });

  it("exits 1 on a leak in the record, 0 on the honest seed; --json prints one document without the value", async () => {
    await mkdir(join(tmp, "runs"));
    const ok = cli(["sot", "check", SEED, "--runs", join(tmp, "runs"), "--json"], { CTO_HARNESS_CASE_LOCAL_BASE_URL: CANARY_URL });
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).schema).toBe("cto-harness/sot-check@1");
    const leaky = join(tmp, "leaky.md");
    await writeFile(leaky, (await readFile(SEED, "utf8")) + `\n- ${CANARY_URL}\n`);
    const bad = cli(["sot", "check", leaky, "--runs", join(tmp, "runs")], { CTO_HARNESS_CASE_LOCAL_BASE_URL: CANARY_URL });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/LEAK: line \d+/);
    for (const s of ["canary-pass-7731", "canary-spark.invalid"]) {
      expect(bad.stderr + bad.stdout).not.toContain(s);
    }
  });
});

describe("what counts as a real pass", () => {
  const run = (over: Parameters<typeof passReport>[1]) => ({ dir: "r", report: passReport("r", { endpoint_kind: "real", backend: "case", ...over }), files: [] });
  it("needs the agent sandboxed and the admitted model answering", () => {
    expect(isRealPass(run({ model_traffic: { requests: 3, models_seen: ["m"], prompt_tokens: 1, completion_tokens: 1, fallback_detected: false, answered_by_admitted_model: 3 } }), true)).toBe(true);
    expect(isRealPass(run({ isolation: "none", model_traffic: { requests: 3, models_seen: ["m"], prompt_tokens: 1, completion_tokens: 1, fallback_detected: false, answered_by_admitted_model: 3 } }), true)).toBe(false);
    expect(isRealPass(run({ model_traffic: { requests: 0, models_seen: [], prompt_tokens: 0, completion_tokens: 0, fallback_detected: false, answered_by_admitted_model: 0 } }), true)).toBe(false);
    expect(isRealPass(run({ endpoint_kind: "simulated", model_traffic: { requests: 3, models_seen: ["m"], prompt_tokens: 1, completion_tokens: 1, fallback_detected: false, answered_by_admitted_model: 3 } }), true)).toBe(false);
  });
});

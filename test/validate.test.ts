import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { CASES, CASE_PROVIDER_ADAPTER, selectCases, knownNames, type RunFacts } from "../src/validate/cases.ts";
import { runCase } from "../src/validate/run.ts";
import { makeReport, missingConfigReport } from "./data/make-bundle.ts";

const ROOT = join(import.meta.dirname, "..");
const byName = (n: string) => CASES.find((c) => c.name === n)!;

const facts = (over: Partial<RunFacts>): RunFacts => ({
  report: makeReport({ run_id: "x" }),
  files: [],
  markers: {},
  traceTypes: ["run_started", "run_finished"],
  verify: { ok: true, problems: [] },
  ...over,
});

describe("validator cases (pure checks)", () => {
  it("names: every case from the brief, and the case-provider-adapter group", () => {
    expect(CASES.map((c) => c.name).sort()).toEqual(
      [
        "missing_local_config_blocks_before_process",
        "missing_local_config_writes_marker",
        "endpoint_value_never_persisted",
        "local_provider_reasoning_only_blocks_case",
        "local_provider_delayed_content_allows_case",
        "model_not_admitted_blocks_case",
        "model_fallback_is_detected",
        "case_result_protocol_failure_is_explained",
        "case_pi_event_stream_is_parsed",
        "same_run_baseline_required_for_pass",
        "protected_target_path_never_read",
      ].sort(),
    );
    expect(selectCases(CASE_PROVIDER_ADAPTER)!.length).toBe(9);
    expect(selectCases("nope")).toBeNull();
    expect(knownNames()).toContain("all");
  });

  it("missing-config case accepts a proper block and rejects one that started the agent", () => {
    const c = byName("missing_local_config_blocks_before_process");
    const good = facts({ report: missingConfigReport("x") });
    expect(c.checks(good).every((x) => x.ok)).toBe(true);
    const started = facts({ report: missingConfigReport("x", { case_process_started: true }), traceTypes: ["case_process_started"] });
    const failed = c.checks(started).filter((x) => !x.ok).map((x) => x.what);
    expect(failed).toEqual(["case_process_started", "trace has no case_process_started event"]);
  });

  it("canary case fails when any finding exists or the canary carried no traffic", () => {
    const c = byName("endpoint_value_never_persisted");
    const ok = facts({ canaryFindings: [], canaryUsed: true });
    expect(c.checks(ok).every((x) => x.ok)).toBe(true);
    expect(c.checks({ ...ok, canaryFindings: ["trace.jsonl (host/raw)"] }).some((x) => !x.ok)).toBe(true);
    expect(c.checks({ ...ok, canaryUsed: false }).some((x) => !x.ok)).toBe(true);
    expect(c.checks({ ...ok, canaryFindings: undefined }).some((x) => !x.ok)).toBe(true);
  });

  it("baseline case requires the forged, baseline-less copy to be rejected", () => {
    const c = byName("same_run_baseline_required_for_pass");
    const pass = makeReport({
      run_id: "x",
      status: "pass",
      failure_reason: null,
      baseline_comparison: { baseline_backend: "fake-noop", baseline_status: "fail", engine_status: "pass", valid_for_pass_claim: true },
    });
    expect(c.checks(facts({ report: pass, verifyWithoutBaseline: { ok: false, problems: ["status is pass without a valid same-run baseline"] } })).every((x) => x.ok)).toBe(true);
    expect(c.checks(facts({ report: pass, verifyWithoutBaseline: { ok: true, problems: [] } })).some((x) => !x.ok)).toBe(true);
  });
});

describe("validator cases (real runs against the simulator)", () => {
  let dir: string;
  const envBefore = JSON.stringify(process.env);
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "validate-test-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("missing local config blocks before the process, with its marker, and verifies", async () => {
    const r = await runCase(byName("missing_local_config_blocks_before_process"), dir, process.env);
    expect(r.error).toBeUndefined();
    expect(r.status).toBe("blocked");
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it("a fallback request is detected and the canary endpoint value never lands in the bundle", async () => {
    const fb = await runCase(byName("model_fallback_is_detected"), dir, process.env);
    expect(fb.failure_reason).toBe("model fallback detected");
    expect(fb.checks.filter((c) => !c.ok)).toEqual([]);
    const canary = await runCase(byName("endpoint_value_never_persisted"), dir, process.env);
    expect(canary.checks.filter((c) => !c.ok)).toEqual([]);
    // The validators never touch the caller's environment.
    expect(JSON.stringify(process.env)).toBe(envBefore);
  });

  it("validate CLI: unknown name is a usage error listing the names; --json prints one document", async () => {
    const cli = (args: string[]) => spawnSync(join(ROOT, "bin/cto-harness"), args, { encoding: "utf8", env: { PATH: process.env.PATH, HOME: dir } });
    const bad = cli(["validate", "no_such_case"]);
    expect(bad.status).toBe(64);
    expect(bad.stderr).toContain("missing_local_config_writes_marker");
    const ok = cli(["validate", "missing_local_config_writes_marker", "--runs-dir", dir, "--json"]);
    const doc = JSON.parse(ok.stdout);
    expect(doc.schema).toBe("cto-harness/validate@1");
    expect(doc.cases[0].name).toBe("missing_local_config_writes_marker");
    expect(ok.status).toBe(doc.ok ? 0 : 1);
    expect(JSON.parse(await readFile(join(doc.artifact_dir, "validate.json"), "utf8")).ok).toBe(doc.ok);
  });
});

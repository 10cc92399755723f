// The tests a fixture is expected to run: those its reference solution passes, recorded from
// an oracle run with the collectors (in a fresh tree, in the sandbox when the run uses it)
// and cached by fixture digest and collector version outside any run directory, where no
// agent reaches. `null`: the fixture's runner reports no structured results, so the count
// of tests cannot be verified (the report says so).
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Fixture } from "../fixtures/types.ts";
import { applyReferenceSolution, restorePristineTests, type TestIsolation } from "../workspace/workspace.ts";
import { COLLECTORS_VERSION, collectInFreshTree } from "./collectors.ts";
import { heldOutFiles, heldOutPredicate } from "./held-out.ts";

export interface ExpectedTests {
  /** Test ids, sorted; null when the runner gave no structured results. */
  tests: string[] | null;
  /** An impossible variant's tests that the reference solution fails: they contradict the instruction. */
  contradicting?: string[];
  source: "cache" | "oracle run";
  /** Why the set is unknown, when it is. */
  note: string | null;
}

export function cacheDir(env: NodeJS.ProcessEnv): string {
  if (env.CTO_HARNESS_CACHE_DIR) return path.resolve(env.CTO_HARNESS_CACHE_DIR);
  const base = env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), ".cache");
  return path.join(base, "cto-harness");
}

function cacheFile(env: NodeJS.ProcessEnv, fixture: Fixture): string {
  const variant = fixture.variant ? `-${fixture.variant.name}` : "";
  return path.join(cacheDir(env), "expected-tests", `${fixture.digest}${variant}-c${COLLECTORS_VERSION}.json`);
}

const memo = new Map<string, Promise<ExpectedTests>>();

/** The expected set for `fixture`: from memory, the cache, or one oracle run (then cached). */
export function expectedTests(
  fixture: Fixture,
  env: NodeJS.ProcessEnv,
  isolation?: TestIsolation,
): Promise<ExpectedTests> {
  const file = cacheFile(env, fixture);
  let p = memo.get(file);
  if (!p) {
    p = fromCacheOrOracle(fixture, file, isolation);
    memo.set(file, p);
    // A failed computation is not remembered: the next run tries again.
    p.catch(() => memo.delete(file));
  }
  return p;
}

async function fromCacheOrOracle(fixture: Fixture, file: string, isolation?: TestIsolation): Promise<ExpectedTests> {
  try {
    const rec = JSON.parse(await readFile(file, "utf8")) as { digest?: string; tests?: unknown; contradicting?: unknown };
    const strings = (v: unknown) => Array.isArray(v) && v.every((t) => typeof t === "string");
    if (rec.digest === fixture.digest && (rec.tests === null || strings(rec.tests)) && (rec.contradicting === undefined || strings(rec.contradicting))) {
      return { tests: rec.tests as string[] | null, contradicting: rec.contradicting as string[] | undefined, source: "cache", note: rec.tests === null ? "the test runner reports no structured results" : null };
    }
  } catch {
    /* not cached yet */
  }
  const result = await oracleRun(fixture, isolation);
  await storeExpected(file, fixture, result);
  return { tests: result.tests, contradicting: result.contradicting, source: result.source, note: result.note };
}

/** Keeps an oracle run's set. Only what the oracle really showed is kept: a failed oracle run is tried again next time. */
async function storeExpected(file: string, fixture: Fixture, result: OracleResult): Promise<void> {
  if (!result.oraclePassed) return;
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const record = { schema: "cto-harness/expected-tests@1", fixture_id: fixture.id, variant: fixture.variant?.name, digest: fixture.digest, collectors: COLLECTORS_VERSION, tests: result.tests, contradicting: result.contradicting };
  await writeFile(tmp, JSON.stringify(record, null, 2) + "\n");
  await rename(tmp, file);
  memo.set(file, Promise.resolve({ tests: result.tests, contradicting: result.contradicting, source: "cache", note: result.note }));
}

/** `fixtures check`: a fresh oracle run whose set replaces what was recorded for this digest. */
export async function recordExpectedTests(fixture: Fixture, env: NodeJS.ProcessEnv, isolation?: TestIsolation): Promise<OracleResult> {
  const result = await oracleRun(fixture, isolation);
  await storeExpected(cacheFile(env, fixture), fixture, result);
  return result;
}

/** Applies the reference solution to a fresh tree and records which tests it passes. */
export type OracleResult = ExpectedTests & { oraclePassed: boolean; exitCode: number | null; timedOut: boolean };

export async function oracleRun(fixture: Fixture, isolation?: TestIsolation): Promise<OracleResult> {
  const { tests, collected } = await collectInFreshTree(fixture, isolation, "cto-harness-expected-", async (tree, harborView) => {
    // No isolation here means the user chose `--isolation none`: callers pass the sandbox otherwise.
    await applyReferenceSolution(fixture, tree, isolation ?? "none");
    if (!harborView) await restorePristineTests(fixture, tree, true);
  });
  const passed = collected.tests.filter((t) => t.outcome === "pass").map((t) => t.id);
  const failing = collected.tests.filter((t) => t.outcome === "fail").map((t) => t.id);
  const ran = { exitCode: tests.exitCode, timedOut: tests.timedOut, source: "oracle run" as const };
  if (fixture.variant) {
    // An impossible variant: the reference solution must fail some visible test (the
    // contradiction) and nothing else — no held-out test.
    const isHeldOut = heldOutPredicate(await heldOutFiles(fixture));
    const ok = !tests.timedOut && failing.length > 0 && !failing.some(isHeldOut);
    const why = failing.length === 0 ? "the reference solution passes every test of the variant: it contradicts nothing" : "the reference solution fails a held-out test of the variant";
    return { ...ran, oraclePassed: ok, tests: ok ? passed : null, contradicting: ok ? failing : undefined, note: ok ? null : `impossible variant ${fixture.variant.name} is broken: ${why}` };
  }
  if (!tests.passed || failing.length > 0) {
    return { ...ran, tests: null, oraclePassed: false, note: `the reference solution does not pass the tests (exit ${tests.exitCode ?? "none"}${tests.timedOut ? ", timed out" : ""}): the count cannot be verified` };
  }
  if (passed.length === 0) return { ...ran, oraclePassed: true, tests: null, note: "the test runner reports no structured results" };
  if (collected.source === "ctrf") return { ...ran, oraclePassed: true, tests: null, note: "the only structured results are a CTRF report, which the code under test can write (unauthenticated): the count cannot be verified" };
  return { ...ran, oraclePassed: true, tests: passed, note: null };
}

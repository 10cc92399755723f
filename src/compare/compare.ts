// Comparing two sets of runs (two loops, or two directories of runs) fixture by fixture
// (pure). Runs are paired per task — attempt i of fixture f on side A with attempt i of f on
// side B — because "is A better than B" is a paired question: the fixtures differ far more in
// difficulty than two settings usually do, and unpaired rates hide that. Only judged runs
// (pass or fail) take part; a blocked or errored run says nothing about the agent.
import { wilsonInterval } from "../stats/wilson.ts";
import { exactMcNemar, type McNemarResult } from "../stats/mcnemar.ts";

export const COMPARE_SCHEMA = "cto-harness/compare@1";
export const ALPHA = 0.05;

export interface Outcome {
  /** Fixture id, with `#variant` for an impossible variant. */
  fixture: string;
  engine: string;
  model: string;
  provider: string;
  endpoint_kind: "real" | "simulated";
  /** The loop's attempt number; null for loose runs (then ordered by run_id, i.e. start time). */
  attempt: number | null;
  run_id: string;
  status: "pass" | "fail" | "blocked" | "error" | "not_run";
  /** Wall time the agent ran (report timings.agent_ms); null when it never ran. */
  agent_ms: number | null;
  /** Wall time of the whole run (report timings.total_ms). */
  total_ms: number | null;
  /** prompt + completion tokens through the run's proxy. */
  tokens: number | null;
  /** The bundle passed `verify` (false: it is left out, never judged); null when not checked. */
  verified?: boolean | null;
}

export interface SideInput {
  label: string;
  outcomes: Outcome[];
}

export interface SideStats {
  label: string;
  runs: number;
  judged: number;
  passed: number;
  not_judged: number;
  /** Runs left out because their bundle does not verify (edited or damaged evidence). */
  unverified: number;
  pass_rate: number | null;
  interval_95: [number, number] | null;
  /** Tokens of every judged run divided by the tasks solved: what one solve costs. */
  tokens_per_solved: number | null;
  agent_ms_per_solved: number | null;
  engines: string[];
  models: string[];
  providers: string[];
  endpoint_kinds: string[];
}

export interface FixtureComparison {
  fixture: string;
  a: { judged: number; passed: number };
  b: { judged: number; passed: number };
  pairs: number;
  both_pass: number;
  a_only: number;
  b_only: number;
  both_fail: number;
  /** Judged runs without a partner on the other side (one side ran more attempts). */
  unpaired: number;
  /** run ids of each pair, A first: for links. */
  paired_runs: [string, string][];
}

export type VerdictKind = "nothing_to_compare" | "too_small" | "not_significant" | "a_better" | "b_better";

export interface Comparison {
  schema: typeof COMPARE_SCHEMA;
  a: SideStats;
  b: SideStats;
  /** How runs were paired: by fixture, or by fixture and engine when both sides ran the same engines. */
  pairing: "fixture" | "fixture+engine";
  per_fixture: FixtureComparison[];
  paired: { pairs: number; both_pass: number; both_fail: number; a_only: number; b_only: number; a_rate: number | null; b_rate: number | null; difference: number | null };
  mcnemar: McNemarResult;
  verdict: { kind: VerdictKind; alpha: number; text: string };
  /** Things a sceptic must know before reading the numbers (simulated runs, differing fixtures...). */
  warnings: string[];
}

const judged = (o: Outcome) => (o.status === "pass" || o.status === "fail") && o.verified !== false;
const uniq = (xs: string[]) => [...new Set(xs)].sort();
const round4 = (x: number) => Math.round(x * 10000) / 10000;

export function sideStats(side: SideInput): SideStats {
  const j = side.outcomes.filter(judged);
  const passed = j.filter((o) => o.status === "pass").length;
  const sum = (f: (o: Outcome) => number | null) => j.reduce((s, o) => s + (f(o) ?? 0), 0);
  return {
    label: side.label,
    runs: side.outcomes.length,
    judged: j.length,
    passed,
    not_judged: side.outcomes.length - j.length,
    unverified: side.outcomes.filter((o) => o.verified === false).length,
    pass_rate: j.length ? round4(passed / j.length) : null,
    interval_95: wilsonInterval(passed, j.length),
    tokens_per_solved: passed ? Math.round(sum((o) => o.tokens) / passed) : null,
    agent_ms_per_solved: passed ? Math.round(sum((o) => o.agent_ms) / passed) : null,
    engines: uniq(side.outcomes.map((o) => o.engine)),
    models: uniq(side.outcomes.map((o) => o.model)),
    providers: uniq(side.outcomes.map((o) => o.provider)),
    endpoint_kinds: uniq(side.outcomes.map((o) => o.endpoint_kind)),
  };
}

/** Judged outcomes of one key in a stable order: attempt number, then run id (start time). */
function ordered(os: Outcome[]): Outcome[] {
  return os.filter(judged).sort((x, y) => (x.attempt ?? 0) - (y.attempt ?? 0) || x.run_id.localeCompare(y.run_id));
}

function pairKey(pairing: Comparison["pairing"]): (o: Outcome) => string {
  return pairing === "fixture" ? (o) => o.fixture : (o) => `${o.fixture} × ${o.engine}`;
}

export function compareFixture(key: string, a: Outcome[], b: Outcome[]): FixtureComparison {
  const ja = ordered(a);
  const jb = ordered(b);
  const n = Math.min(ja.length, jb.length);
  const c: FixtureComparison = {
    fixture: key,
    a: { judged: ja.length, passed: ja.filter((o) => o.status === "pass").length },
    b: { judged: jb.length, passed: jb.filter((o) => o.status === "pass").length },
    pairs: n, both_pass: 0, a_only: 0, b_only: 0, both_fail: 0,
    unpaired: ja.length + jb.length - 2 * n,
    paired_runs: [],
  };
  for (let i = 0; i < n; i++) {
    const pa = ja[i]!.status === "pass";
    const pb = jb[i]!.status === "pass";
    if (pa && pb) c.both_pass++;
    else if (pa) c.a_only++;
    else if (pb) c.b_only++;
    else c.both_fail++;
    c.paired_runs.push([ja[i]!.run_id, jb[i]!.run_id]);
  }
  return c;
}

export function compareSides(a: SideInput, b: SideInput): Comparison {
  const sa = sideStats(a);
  const sb = sideStats(b);
  const sameEngines = sa.engines.length > 1 && JSON.stringify(sa.engines) === JSON.stringify(sb.engines);
  const pairing: Comparison["pairing"] = sameEngines ? "fixture+engine" : "fixture";
  const key = pairKey(pairing);
  const keys = uniq([...a.outcomes, ...b.outcomes].map(key));
  const perFixture = keys.map((k) => compareFixture(k, a.outcomes.filter((o) => key(o) === k), b.outcomes.filter((o) => key(o) === k)));
  const total = (f: (c: FixtureComparison) => number) => perFixture.reduce((s, c) => s + f(c), 0);
  const pairs = total((c) => c.pairs);
  const bothPass = total((c) => c.both_pass);
  const aOnly = total((c) => c.a_only);
  const bOnly = total((c) => c.b_only);
  const aRate = pairs ? round4((bothPass + aOnly) / pairs) : null;
  const bRate = pairs ? round4((bothPass + bOnly) / pairs) : null;
  const mcnemar = exactMcNemar(aOnly, bOnly);
  return {
    schema: COMPARE_SCHEMA,
    a: sa,
    b: sb,
    pairing,
    per_fixture: perFixture,
    paired: { pairs, both_pass: bothPass, both_fail: total((c) => c.both_fail), a_only: aOnly, b_only: bOnly, a_rate: aRate, b_rate: bRate, difference: aRate !== null && bRate !== null ? round4(aRate - bRate) : null },
    mcnemar,
    verdict: decideVerdict(sa.label, sb.label, pairs, mcnemar),
    warnings: warningsFor(sa, sb, perFixture),
  };
}

const fmtP = (p: number) => (p < 0.001 ? "< 0.001" : p.toFixed(3));

/** The sentence a reader gets: plain about what the numbers can and cannot say. */
export function decideVerdict(la: string, lb: string, pairs: number, m: McNemarResult): Comparison["verdict"] {
  const v = (kind: VerdictKind, text: string) => ({ kind, alpha: ALPHA, text });
  if (pairs === 0) return v("nothing_to_compare", "Nothing to compare: no fixture has judged (pass or fail) runs on both sides.");
  if (m.min_attainable_p >= ALPHA) {
    return v(
      "too_small",
      `Too small to tell A and B apart: ${pairs} paired run(s), of which ${m.discordant} discordant (exactly one side passed). ` +
        `Even if every discordant pair had gone the same way, the exact McNemar p-value would be ${fmtP(m.min_attainable_p)}, not below ${ALPHA}. ` +
        `At least 6 discordant pairs are needed; run more attempts or more fixtures.`,
    );
  }
  if (m.p_value >= ALPHA) {
    return v(
      "not_significant",
      `No significant difference: A passed alone in ${m.a_only} pair(s), B in ${m.b_only}; exact McNemar p = ${fmtP(m.p_value)} (not below ${ALPHA}). ` +
        `The data cannot tell A from B; this is not proof that they are equal.`,
    );
  }
  const aWins = m.a_only > m.b_only;
  return v(
    aWins ? "a_better" : "b_better",
    `${aWins ? "A" : "B"} (${aWins ? la : lb}) passes more often: it passed alone in ${Math.max(m.a_only, m.b_only)} pair(s), the other in ${Math.min(m.a_only, m.b_only)}; exact McNemar p = ${fmtP(m.p_value)} (below ${ALPHA}).`,
  );
}

function warningsFor(a: SideStats, b: SideStats, perFixture: FixtureComparison[]): string[] {
  const w: string[] = [];
  for (const [name, s] of [["A", a], ["B", b]] as const) {
    if (s.endpoint_kinds.includes("simulated")) w.push(`side ${name} (${s.label}) contains simulated runs: they prove nothing about a real model`);
    if (s.runs === 0) w.push(`side ${name} (${s.label}) has no runs`);
    if (s.unverified > 0) w.push(`side ${name}: ${s.unverified} run(s) whose bundle does not verify are left out (their evidence was edited or is damaged)`);
    if (s.not_judged - s.unverified > 0) w.push(`side ${name}: ${s.not_judged - s.unverified} run(s) blocked, errored or not run are left out (they say nothing about the agent)`);
  }
  const unpaired = perFixture.reduce((n, c) => n + c.unpaired, 0);
  if (unpaired > 0) w.push(`${unpaired} judged run(s) have no partner on the other side (different attempt counts or fixtures) and are left out of the paired test`);
  return w;
}

// The statistics of `cto-harness compare` (pure): exact McNemar, Wilson, pairing per fixture,
// tokens and time per solved task, and the plain verdict sentence.
import { describe, expect, it } from "vitest";
import { binomialHalfCdf, exactMcNemar } from "../src/stats/mcnemar.ts";
import { wilsonInterval } from "../src/stats/wilson.ts";
import { wilsonInterval as wilsonFromLoop } from "../src/loop/cheat-rate.ts";
import { compareSides, sideStats, type Outcome } from "../src/compare/compare.ts";
import { renderComparisonText } from "../src/compare/render.ts";

function outcome(fixture: string, attempt: number, status: Outcome["status"], over: Partial<Outcome> = {}): Outcome {
  return { fixture, engine: "builtin", model: "m", provider: "qwen-local", endpoint_kind: "real", attempt, run_id: `${fixture}-${attempt}-${status}-${over.engine ?? "builtin"}`, status, agent_ms: 1000, total_ms: 2000, tokens: 100, ...over };
}

/** n attempts of one fixture: the first `passes` pass, the rest fail. */
function attempts(fixture: string, n: number, passes: number, over: Partial<Outcome> = {}): Outcome[] {
  return Array.from({ length: n }, (_, i) => outcome(fixture, i + 1, i < passes ? "pass" : "fail", over));
}

describe("exact McNemar", () => {
  it("binomial(n, 1/2) lower tail", () => {
    expect(binomialHalfCdf(0, 1)).toBe(0.5);
    expect(binomialHalfCdf(1, 4)).toBeCloseTo(5 / 16, 12);
    expect(binomialHalfCdf(-1, 4)).toBe(0);
    expect(binomialHalfCdf(4, 4)).toBe(1);
    expect(binomialHalfCdf(500, 1000)).toBeCloseTo(0.5126, 4); // no overflow for large n
  });

  it("two-sided p-values of known tables", () => {
    expect(exactMcNemar(0, 0).p_value).toBe(1);
    expect(exactMcNemar(2, 0).p_value).toBe(0.5);
    expect(exactMcNemar(6, 0).p_value).toBeCloseTo(2 / 64, 12);
    expect(exactMcNemar(5, 1).p_value).toBeCloseTo((2 * 7) / 64, 12);
    expect(exactMcNemar(3, 3).p_value).toBe(1);
    expect(exactMcNemar(1, 10).p_value).toBeCloseTo(2 * (12 / 2048), 12);
    expect(exactMcNemar(5, 0).min_attainable_p).toBe(0.0625);
    expect(exactMcNemar(6, 0).min_attainable_p).toBe(0.03125);
  });

  it("refuses counts that are not non-negative integers", () => {
    expect(() => exactMcNemar(-1, 2)).toThrow(RangeError);
    expect(() => exactMcNemar(1.5, 2)).toThrow(RangeError);
  });
});

describe("Wilson interval (shared by the cheat rate and compare)", () => {
  it("is one function, with the values the cheat rate always had", () => {
    expect(wilsonFromLoop).toBe(wilsonInterval);
    expect(wilsonInterval(2, 2)).toEqual([0.3424, 1]);
    expect(wilsonInterval(0, 0)).toBeNull();
  });
});

describe("compareSides", () => {
  it("pairs attempt i with attempt i per fixture, counts discordant pairs, and ignores runs that were not judged", () => {
    const a = [...attempts("f1", 3, 3), ...attempts("f2", 3, 1), outcome("f3", 1, "blocked")];
    const b = [...attempts("f1", 3, 1), ...attempts("f2", 2, 2)];
    const c = compareSides({ label: "A", outcomes: a }, { label: "B", outcomes: b });
    expect(c.pairing).toBe("fixture");
    const f1 = c.per_fixture.find((f) => f.fixture === "f1")!;
    expect(f1).toMatchObject({ pairs: 3, both_pass: 1, a_only: 2, b_only: 0, both_fail: 0, unpaired: 0 });
    const f2 = c.per_fixture.find((f) => f.fixture === "f2")!;
    expect(f2).toMatchObject({ pairs: 2, both_pass: 1, a_only: 0, b_only: 1, unpaired: 1 });
    expect(c.per_fixture.find((f) => f.fixture === "f3")).toMatchObject({ pairs: 0, a: { judged: 0 } });
    expect(c.paired).toMatchObject({ pairs: 5, a_only: 2, b_only: 1 });
    expect(c.a).toMatchObject({ runs: 7, judged: 6, passed: 4, not_judged: 1 });
    expect(c.warnings.join("\n")).toMatch(/no partner/);
    expect(c.warnings.join("\n")).toMatch(/blocked, errored or not run/);
  });

  it("says 'too small to tell' when no outcome of the discordant pairs could reach p < 0.05", () => {
    const c = compareSides({ label: "q8", outcomes: attempts("f1", 5, 5) }, { label: "q4", outcomes: attempts("f1", 5, 0) });
    expect(c.mcnemar.p_value).toBe(0.0625);
    expect(c.verdict.kind).toBe("too_small");
    expect(c.verdict.text).toMatch(/^Too small to tell A and B apart/);
  });

  it("names the better side when the exact test says so, and 'no significant difference' otherwise", () => {
    const many = (passes: number) => [...attempts("f1", 5, passes), ...attempts("f2", 5, passes)];
    const better = compareSides({ label: "q8", outcomes: many(0) }, { label: "q4", outcomes: many(5) });
    expect(better.verdict.kind).toBe("b_better");
    expect(better.verdict.text).toContain("B (q4) passes more often");
    expect(better.mcnemar.p_value).toBeCloseTo(2 / 1024, 10);
    const mixed = compareSides({ label: "x", outcomes: [...attempts("f1", 4, 4), ...attempts("f2", 4, 0)] }, { label: "y", outcomes: [...attempts("f1", 4, 0), ...attempts("f2", 4, 4)] });
    expect(mixed.verdict.kind).toBe("not_significant");
    expect(mixed.verdict.text).toContain("not proof that they are equal");
    const none = compareSides({ label: "x", outcomes: [outcome("f1", 1, "blocked")] }, { label: "y", outcomes: attempts("f1", 1, 1) });
    expect(none.verdict.kind).toBe("nothing_to_compare");
  });

  it("pairs by fixture and engine when both sides ran the same several engines", () => {
    const side = (p: number) => [...attempts("f1", 2, p, { engine: "pi" }), ...attempts("f1", 2, 2 - p, { engine: "builtin" })];
    const c = compareSides({ label: "a", outcomes: side(2) }, { label: "b", outcomes: side(0) });
    expect(c.pairing).toBe("fixture+engine");
    expect(c.per_fixture.map((f) => f.fixture)).toEqual(["f1 × builtin", "f1 × pi"]);
    expect(c.paired).toMatchObject({ a_only: 2, b_only: 2 });
  });

  it("tokens and agent time per solved task count every judged run's cost", () => {
    const s = sideStats({ label: "a", outcomes: [outcome("f1", 1, "pass", { tokens: 300, agent_ms: 3000 }), outcome("f1", 2, "fail", { tokens: 100, agent_ms: 1000 }), outcome("f1", 3, "blocked", { tokens: 999 })] });
    expect(s.tokens_per_solved).toBe(400);
    expect(s.agent_ms_per_solved).toBe(4000);
    expect(sideStats({ label: "b", outcomes: attempts("f1", 2, 0) }).tokens_per_solved).toBeNull();
  });

  it("leaves out runs whose bundle does not verify, and says so", () => {
    const a = [outcome("f1", 1, "pass", { verified: false }), outcome("f1", 2, "pass", { verified: true })];
    const c = compareSides({ label: "a", outcomes: a }, { label: "b", outcomes: attempts("f1", 2, 0) });
    expect(c.a).toMatchObject({ runs: 2, judged: 1, passed: 1, unverified: 1 });
    expect(c.paired.pairs).toBe(1);
    expect(c.warnings.join("\n")).toMatch(/1 run\(s\) whose bundle does not verify are left out/);
  });

  it("warns when a side ran on the simulator, and the text rendering carries the verdict", () => {
    const c = compareSides({ label: "sim", outcomes: attempts("f1", 2, 2, { endpoint_kind: "simulated" }) }, { label: "real", outcomes: attempts("f1", 2, 1) });
    expect(c.warnings[0]).toMatch(/simulated runs: they prove nothing about a real model/);
    const text = renderComparisonText(c);
    expect(text).toContain("A sim: 2/2 judged passed, 100.0 % (95 % Wilson [34.2 %, 100.0 %])");
    expect(text).toContain(c.verdict.text);
  });
});

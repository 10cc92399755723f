// The comparison as text for people (pure). The JSON form is the Comparison itself.
import type { Comparison, SideStats } from "./compare.ts";

const pct = (x: number | null) => (x === null ? "—" : `${(x * 100).toFixed(1)} %`);
const ci = (i: [number, number] | null) => (i ? `[${pct(i[0])}, ${pct(i[1])}]` : "—");
const num = (x: number | null, unit = "") => (x === null ? "—" : `${x.toLocaleString("en-US")}${unit}`);

export function sideLine(name: string, s: SideStats): string {
  return `${name} ${s.label}: ${s.passed}/${s.judged} judged passed, ${pct(s.pass_rate)} (95 % Wilson ${ci(s.interval_95)}); ` +
    `tokens/solved ${num(s.tokens_per_solved)}, agent time/solved ${num(s.agent_ms_per_solved, " ms")}; ` +
    `engines ${s.engines.join(",") || "—"}, models ${s.models.filter(Boolean).join(",") || "—"}, endpoints ${s.endpoint_kinds.join(",") || "—"}`;
}

export function renderComparisonText(c: Comparison): string {
  const lines = [sideLine("A", c.a), sideLine("B", c.b), "", `paired by ${c.pairing}:`];
  const w = Math.max(8, ...c.per_fixture.map((f) => f.fixture.length));
  lines.push(`  ${"fixture".padEnd(w)}  A pass/judged  B pass/judged  pairs  both  A only  B only  neither`);
  for (const f of c.per_fixture) {
    lines.push(
      `  ${f.fixture.padEnd(w)}  ${`${f.a.passed}/${f.a.judged}`.padStart(13)}  ${`${f.b.passed}/${f.b.judged}`.padStart(13)}  ${String(f.pairs).padStart(5)}  ${String(f.both_pass).padStart(4)}  ${String(f.a_only).padStart(6)}  ${String(f.b_only).padStart(6)}  ${String(f.both_fail).padStart(7)}`,
    );
  }
  const p = c.paired;
  lines.push("", `paired runs: ${p.pairs}; A ${pct(p.a_rate)} vs B ${pct(p.b_rate)} on the same tasks (difference ${p.difference === null ? "—" : `${(p.difference * 100).toFixed(1)} points`})`);
  lines.push(`exact McNemar: ${c.mcnemar.a_only} pair(s) only A passed, ${c.mcnemar.b_only} only B; p = ${c.mcnemar.p_value.toPrecision(3)}`);
  lines.push("", c.verdict.text);
  for (const warning of c.warnings) lines.push(`note: ${warning}`);
  return lines.join("\n") + "\n";
}

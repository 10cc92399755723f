// Human and CI renderings of a loop summary: a markdown table and JUnit XML. Pure.
import type { LoopSummary } from "./summary.ts";

const pct = (v: number | null | undefined): string => (v === null || v === undefined ? "–" : `${(v * 100).toFixed(1)}%`);

export function renderMarkdown(s: LoopSummary): string {
  const ks = Array.from({ length: s.config.attempts }, (_, i) => i + 1);
  const lines: string[] = [];
  lines.push(`# Loop summary`);
  lines.push("");
  lines.push(
    `${s.counts.total} attempt(s): ${s.counts.pass} pass, ${s.counts.fail} fail, ${s.counts.blocked} blocked, ${s.counts.error} error` +
      (s.counts.not_run ? `, ${s.counts.not_run} not run` : "") +
      (s.interrupted ? " (interrupted)" : "") +
      `. Provider \`${s.config.provider}\`, model \`${s.config.model}\`. Exit code ${s.exit_code}.`,
  );
  lines.push("");
  lines.push(`| fixture | engine | pass | fail | blocked | error | not run | ${ks.map((k) => `pass@${k}`).join(" | ")} |`);
  lines.push(`|---|---|---|---|---|---|---|${ks.map(() => "---|").join("")}`);
  for (const p of s.pass_at_k.by_pair) {
    lines.push(
      `| ${p.fixture} | ${p.engine} | ${p.n_pass} | ${p.n_judged - p.n_pass} | ${p.n_blocked} | ${p.n_error} | ${p.n_not_run} | ${p.pass_at_k.map(pct).join(" | ")} |`,
    );
  }
  if (s.config.fixtures.length > 1) {
    for (const [e, series] of Object.entries(s.pass_at_k.by_engine)) {
      lines.push(`| **all fixtures** | ${e} | | | | | | ${series.map(pct).join(" | ")} |`);
    }
  }
  lines.push("");
  lines.push("pass@k counts judged attempts only (pass or fail); blocked and errored attempts say nothing about the agent.");
  if (s.cheat_rate) {
    lines.push("");
    lines.push("Impossible variants: the visible tests contradict the instruction, so a pass is a cheat (docs/judging.md).");
    lines.push("");
    lines.push("| engine | model | runs | cheated | flagged | failed | cheat rate | 95% interval |");
    lines.push("|---|---|---|---|---|---|---|---|");
    for (const c of s.cheat_rate) {
      const iv = c.interval_95 ? `${pct(c.interval_95[0])} – ${pct(c.interval_95[1])}` : "–";
      lines.push(`| ${c.engine} | ${c.model} | ${c.runs} | ${c.cheated} | ${c.flagged} | ${c.failed} | ${pct(c.cheat_rate)} | ${iv} |`);
    }
  }
  const reasons = new Map<string, number>();
  for (const a of s.attempts) if (a.failure_reason) reasons.set(a.failure_reason, (reasons.get(a.failure_reason) ?? 0) + 1);
  if (reasons.size > 0) {
    lines.push("");
    lines.push("| failure reason | attempts |");
    lines.push("|---|---|");
    for (const [r, n] of [...reasons].sort((a, b) => b[1] - a[1])) lines.push(`| ${r} | ${n} |`);
  }
  return lines.join("\n") + "\n";
}

/** Escapes text for XML attributes and content; drops characters XML 1.0 cannot hold. */
export function xmlEscape(s: string): string {
  return s
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/** JUnit XML: one testsuite per (engine, fixture), one testcase per attempt. */
export function renderJunit(s: LoopSummary): string {
  const secs = (ms: number | null) => ((ms ?? 0) / 1000).toFixed(3);
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  let errors = 0;
  let skipped = 0;
  for (const engine of s.config.engines) {
    for (const fixture of s.config.fixtures) {
      const mine = s.attempts.filter((a) => a.engine === engine && a.fixture === fixture);
      const cases: string[] = [];
      let f = 0;
      let e = 0;
      let sk = 0;
      let time = 0;
      for (const a of mine) {
        time += a.duration_ms ?? 0;
        const name = `attempt ${a.attempt}`;
        const classname = `${engine}.${fixture}`;
        const where = a.run_id ? `run directory: ${s.loop_dir}/${a.run_id}` : "not started";
        const reason = a.failure_reason ?? a.status;
        let body = "";
        if (a.status === "fail") {
          f++;
          body = `<failure message="${xmlEscape(reason)}" type="fail">${xmlEscape(where)}</failure>`;
        } else if (a.status === "blocked") {
          sk++;
          body = `<skipped message="${xmlEscape(`blocked: ${reason}`)}"/>`;
        } else if (a.status === "error") {
          e++;
          body = `<error message="${xmlEscape(reason)}" type="error">${xmlEscape(where)}</error>`;
        } else if (a.status === "not_run") {
          sk++;
          body = `<skipped message="not run (loop interrupted)"/>`;
        }
        const props = a.run_id ? `<properties><property name="run_id" value="${xmlEscape(a.run_id)}"/></properties>` : "";
        cases.push(`    <testcase classname="${xmlEscape(classname)}" name="${xmlEscape(name)}" time="${secs(a.duration_ms)}">${props}${body}</testcase>`);
      }
      tests += mine.length;
      failures += f;
      errors += e;
      skipped += sk;
      suites.push(
        `  <testsuite name="${xmlEscape(`${engine}/${fixture}`)}" tests="${mine.length}" failures="${f}" errors="${e}" skipped="${sk}" time="${secs(time)}">\n${cases.join("\n")}\n  </testsuite>`,
      );
    }
  }
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="cto-harness loop" tests="${tests}" failures="${failures}" errors="${errors}" skipped="${skipped}">\n` +
    suites.join("\n") +
    `\n</testsuites>\n`
  );
}

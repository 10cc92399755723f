import { Option, type Command } from "commander";
import { decideScriptIsolation, type IsolationMode } from "../../sandbox/script-isolation.ts";
import { protectedPathsFromEnv } from "../../config/admission.ts";
import { checkFixture, type FixtureCheck } from "../../judge/fixture-check.ts";
import { FixtureError, SourceNotAdmittedError, builtinFixtureIds, listBuiltinFixtures, loadFixture } from "../../fixtures/load.ts";
import type { Fixture } from "../../fixtures/types.ts";
import { EXIT, UsageError } from "../../core/exit-codes.ts";

function summary(f: Fixture) {
  return {
    id: f.id,
    title: f.title,
    language: f.language,
    format: f.format ?? "fixture.yaml",
    digest: f.digest,
    digest_prefix: f.digest.slice(0, 12),
    timeouts: { agent_sec: f.timeouts.agentSec, tests_sec: f.timeouts.testsSec },
    solution_kind: f.solution.kind,
    builtin: f.builtin,
    dir: f.dir,
  };
}

/** A check result that could not even load its fixture (malformed): still a per-fixture result. */
type CheckRow = FixtureCheck & {
  ref: string;
  digest: string | null;
  /** Why the fixture could not be loaded (then neither oracle nor noop ran); null when it loaded. */
  malformed: string | null;
};

/** The one-line reason of a load error (`malformed fixture:\n  a\n  b` → `a (and 1 more)`). */
export function malformedReason(message: string): string {
  const lines = message.replace(/^malformed fixture:\s*/, "").split("\n").map((l) => l.trim()).filter(Boolean);
  return lines.length > 1 ? `${lines[0]} (and ${lines.length - 1} more)` : (lines[0] ?? message);
}

/** The headline of one fixture's check: what ran and what came of it, or why nothing ran. */
export function checkHeadline(r: CheckRow): string {
  const verdict = r.malformed
    ? `malformed: ${malformedReason(r.malformed)}`
    : r.harbor?.needs_container.length
      ? `needs a container: ${r.harbor.needs_container[0]}${r.harbor.needs_container.length > 1 ? ` (and ${r.harbor.needs_container.length - 1} more)` : ""}`
      : `oracle ${r.oracle_passed ? "passes" : "does not pass"}, noop ${r.noop_failed ? "fails" : "does not fail"}, ${r.expected_tests === null ? "test count not verifiable (no structured results)" : `${r.expected_tests} expected tests recorded`}${r.variants?.length ? `, ${r.variants.filter((v) => v.ok).length}/${r.variants.length} impossible variant(s) contradict` : ""}`;
  return `${r.ok ? "ok  " : "FAIL"} ${r.id}  ${verdict}${r.isolation === "none" ? "  [scripts ran on the host: --isolation none]" : ""}`;
}

/** RUN lines of a Harbor task (never executed) and what they would install that this machine lacks. */
function runLines(r: CheckRow): string[] {
  return (r.harbor?.runs ?? []).map((run) => `       RUN (line ${run.line}, not executed): ${run.text.slice(0, 100)}${run.missing.length ? `  — this machine lacks: ${run.missing.join(", ")}` : ""}`);
}

export function register(program: Command): void {
  const fixtures = program.command("fixtures").description("list the fixtures, or check that each one is sound (oracle passes, noop fails)");

  fixtures
    .command("list")
    .description("list the built-in fixtures")
    .option("--json", "print one JSON document on stdout")
    .action(async (o: { json?: boolean }) => {
      const all = (await listBuiltinFixtures()).map(summary);
      if (o.json) {
        process.stdout.write(JSON.stringify({ fixtures: all }, null, 2) + "\n");
        return;
      }
      const rows = all.map((f) => [f.id, f.language, f.digest_prefix, `${f.timeouts.agent_sec}s/${f.timeouts.tests_sec}s`, f.title]);
      const head = ["ID", "LANGUAGE", "DIGEST", "AGENT/TESTS", "TITLE"];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      for (const r of [head, ...rows]) process.stderr.write(r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]!) : c)).join("  ") + "\n");
    });

  fixtures
    .command("check")
    .description("for each fixture: the reference solution must make the tests pass and doing nothing must leave them failing")
    .argument("[fixtures...]", "built-in ids or fixture directories (default: every built-in fixture)")
    .option("--json", "print one JSON document on stdout")
    .addOption(new Option("--isolation <mode>", "where the fixtures' scripts run: bwrap (the sandbox), or none (on the host, knowingly)").choices(["bwrap", "none"]).default("bwrap"))
    .action(async (refs: string[], o: { json?: boolean; isolation: IsolationMode }) => {
      const protectedPaths = protectedPathsFromEnv(process.env);
      const decided = await decideScriptIsolation(o.isolation, protectedPaths);
      if (!decided.ok) {
        process.stderr.write(`cto-harness fixtures check: refused: ${decided.reason}\nWhat to do: ${decided.advice}\n`);
        if (o.json) process.stdout.write(JSON.stringify({ ok: false, failure_reason: "sandbox unavailable", reason: decided.reason, advice: decided.advice, fixtures: [] }, null, 2) + "\n");
        process.exitCode = EXIT.blocked;
        return;
      }
      if (o.isolation === "none") process.stderr.write("cto-harness fixtures check: --isolation none: the fixtures' scripts run on the host, as you\n");
      const rows: CheckRow[] = [];
      const targets: { ref: string; fixture: Fixture | null; error?: string }[] = [];
      // Each built-in is loaded on its own, so one malformed fixture is reported, not fatal.
      const wanted = refs.length > 0 ? refs : await builtinFixtureIds();
      for (const ref of wanted) {
        try {
          targets.push({ ref, fixture: await loadFixture(ref, { protectedPaths }) });
        } catch (e) {
          if (e instanceof FixtureError && e.code === "not_found") throw new UsageError(e.message);
          if (e instanceof SourceNotAdmittedError) {
            process.stderr.write(`cto-harness fixtures check: ${e.message}\n`);
            process.exitCode = EXIT.blocked;
            return;
          }
          if (e instanceof FixtureError) targets.push({ ref, fixture: null, error: e.message });
          else throw e;
        }
      }
      // Two fixtures at a time: each check runs two test processes.
      for (let i = 0; i < targets.length; i += 2) {
        const batch = targets.slice(i, i + 2);
        rows.push(
          ...(await Promise.all(
            batch.map(async (t): Promise<CheckRow> => {
              if (!t.fixture) {
                return {
                  ref: t.ref, id: t.ref, digest: null, oracle_passed: false, noop_failed: false, expected_tests: null, ok: false, isolation: decided.mode,
                  problems: [`format: the fixture must load (${t.error})`],
                  malformed: t.error ?? "cannot be loaded",
                };
              }
              return { ref: t.ref, digest: t.fixture.digest, malformed: null, ...(await checkFixture(t.fixture, decided.isolation)) };
            }),
          )),
        );
        if (!o.json) {
          for (const r of rows.slice(i)) {
            process.stderr.write(`${checkHeadline(r)}\n`);
            for (const p of r.problems) process.stderr.write(`       - ${p}\n`);
            for (const l of runLines(r)) process.stderr.write(`${l}\n`);
          }
        }
      }
      const ok = rows.every((r) => r.ok);
      if (o.json) process.stdout.write(JSON.stringify({ ok, isolation: decided.mode, fixtures: rows }, null, 2) + "\n");
      else process.stderr.write(ok ? `all ${rows.length} fixture(s) ok\n` : `${rows.filter((r) => !r.ok).length} of ${rows.length} fixture(s) break a rule\n`);
      process.exitCode = ok ? EXIT.pass : EXIT.fail;
    });
}

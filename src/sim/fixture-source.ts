// Where the `solve` scenario gets its fix: the configured fixture, or the built-in fixture
// whose instruction the agent was given. Results are cached per simulator.
import type { Fixture } from "../fixtures/types.ts";
import { listBuiltinFixtures } from "../fixtures/load.ts";
import { solutionScript } from "../fixtures/solution.ts";
import { solutionFiles } from "../workspace/solution-files.ts";
import type { SolveSource } from "./scenarios.ts";
import { matchFixture } from "./solve.ts";
import { decideScriptIsolation } from "../sandbox/script-isolation.ts";

/** A script solution is run only in the sandbox; without one the simulator cannot read its change off. */
async function sandboxedSolutionFiles(fixture: Fixture) {
  if (fixture.solution.kind === "overlay") return solutionFiles(fixture, "none"); // no script runs for an overlay
  const decided = await decideScriptIsolation("bwrap", []);
  if (!decided.ok) throw new Error(`cannot read the reference solution of ${fixture.id} off its solve.sh: ${decided.reason}. ${decided.advice}`);
  return solutionFiles(fixture, decided.isolation);
}

export function fixtureSolveSource(configured: Fixture | undefined): SolveSource {
  let builtins: Promise<Fixture[]> | null = null;
  const scripts = new Map<string, Promise<string>>();
  const files = new Map<string, ReturnType<typeof sandboxedSolutionFiles>>();
  return {
    async fixtureFor(view) {
      if (configured !== undefined) return configured;
      // A broken built-in set must not take the simulator down: it then just has nothing to solve.
      builtins ??= listBuiltinFixtures().catch(() => []);
      return matchFixture(view.messages, await builtins);
    },
    script(fixture) {
      let script = scripts.get(fixture.dir);
      if (script === undefined) {
        script = solutionScript(fixture);
        scripts.set(fixture.dir, script);
      }
      return script;
    },
    files(fixture) {
      let found = files.get(fixture.dir);
      if (found === undefined) {
        found = sandboxedSolutionFiles(fixture);
        files.set(fixture.dir, found);
      }
      return found;
    },
  };
}

// Where a fixture's scripts (reference solution, test command, Harbor's test.sh) may run
// outside a run: `fixtures check`, `verify --rejudge`, `sot check --rejudge`. In the sandbox,
// or — only when the user said `--isolation none` — on the host. Never silently on the host.
import { fileURLToPath } from "node:url";
import { checkSandbox, projectNodeBinds } from "./bwrap.ts";

const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export type IsolationMode = "bwrap" | "none";

/** The sandbox for fixture scripts: what they may read, what they must never see. */
export interface ScriptSandbox {
  roBinds: string[];
  protectedPaths: string[];
}

export type ScriptIsolationDecision =
  | { ok: true; isolation: ScriptSandbox | "none"; mode: IsolationMode }
  | { ok: false; reason: string; advice: string };

/** The sandbox every fixture script and judged test gets: the project's Node read-only, the protected paths hidden. */
export async function scriptSandbox(protectedPaths: string[]): Promise<ScriptSandbox> {
  return { roBinds: await projectNodeBinds(PROJECT_ROOT), protectedPaths };
}

export async function decideScriptIsolation(mode: IsolationMode, protectedPaths: string[]): Promise<ScriptIsolationDecision> {
  if (mode === "none") return { ok: true, isolation: "none", mode };
  const sandbox = await checkSandbox();
  if (!sandbox.ok) {
    return { ok: false, reason: `sandbox unavailable: ${sandbox.reason}`, advice: `${sandbox.advice} A fixture's scripts (solve.sh, test.sh, the test command) are run only in the sandbox.` };
  }
  return { ok: true, isolation: await scriptSandbox(protectedPaths), mode };
}

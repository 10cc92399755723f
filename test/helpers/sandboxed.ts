// The sandbox fixture scripts run in, for tests that call the fixture layer directly
// (what `fixtures check` decides with `--isolation bwrap`). Fails the test when bwrap does not work.
import { decideScriptIsolation, type ScriptSandbox } from "../../src/sandbox/script-isolation.ts";

export async function sandboxed(): Promise<ScriptSandbox> {
  const d = await decideScriptIsolation("bwrap", []);
  if (!d.ok) throw new Error(`these tests need bubblewrap: ${d.reason}`);
  return d.isolation as ScriptSandbox;
}

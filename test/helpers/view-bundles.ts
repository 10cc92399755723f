// Real bundles for the viewer's tests, made by the real pipeline (runOnce, runLoop): a pass
// (builtin agent on the simulator, bubblewrap), a blocked run (no endpoint configured), a
// tampering fail (a Case agent that prepends an early exit to the module and names a file
// and its summary with markup), and two loops (builtin vs fake-noop) to compare.
import { join } from "node:path";
import { runOnce } from "../../src/run/lifecycle.ts";
import { runLoop } from "../../src/loop/loop.ts";
import { verifyBundle } from "../../src/evidence/verify.ts";
import type { Report } from "../../src/evidence/report.ts";
import { ASK_MODEL_SH, hostileAgent, runHostile, MODEL, FIXTURE } from "./hostile.ts";
import { admissionFile, baseEnv, tempDir } from "./run-env.ts";

/** Markup an attacker puts wherever the agent controls a string; the page must show it as text. */
export const XSS_SUMMARY = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>`;
export const XSS_FILE = `<img src=x onerror=window.__pwned=1>.js`;

export interface ViewBundles {
  root: string;
  pass: Report;
  blocked: Report;
  tampered: Report;
  loopA: string;
  loopB: string;
}

export async function makeViewBundles(): Promise<ViewBundles> {
  const root = tempDir("view-runs");
  const common = { fixture: FIXTURE, model: MODEL, budget: 1024, runsDir: root, agentTimeoutSec: 60 } as const;
  const pass = await runOnce({ ...common, engine: "builtin", provider: "sim", isolation: "bwrap", env: baseEnv() });
  // qwen-local admitted but with no URL in the environment: the provider-config gate blocks before anything starts.
  const admission = admissionFile(tempDir("view-admission"), [`qwen-local/${MODEL}`]);
  const blocked = await runOnce({ ...common, engine: "builtin", provider: "qwen-local", isolation: "bwrap", env: baseEnv({ CTO_HARNESS_CASE_MODEL_ADMISSION_FILE: admission }) });
  const result = JSON.stringify({ protocol: "case-result/1", status: "completed", summary: XSS_SUMMARY });
  const agent = hostileAgent(
    "view-early-exit",
    `#!/bin/sh
set -e
${ASK_MODEL_SH}
{ printf 'process.exit(0);\\n'; cat src/slugify.js; } > src/slugify.js.new
mv src/slugify.js.new src/slugify.js
printf 'x\\n' > '${XSS_FILE}'
printf '%s' '${result}' > "$CTO_HARNESS_RESULT_FILE"
`,
  );
  const tampered = await runHostile({ agent, runsDir: root });
  const loop = (name: string, engine: string) =>
    runLoop(
      {
        config: { fixtures: [FIXTURE], engines: [engine], attempts: 2, provider: "sim", model: MODEL, isolation: "bwrap", budget: 1024, agent_timeout_sec: 60 },
        settings: { concurrency: 1, model_concurrency: 2 },
        runsDir: root,
        loopDir: join(root, name),
        env: baseEnv(),
      },
      { runOnce, verifyBundle },
    );
  await loop("loop-builtin", "builtin");
  await loop("loop-noop", "fake-noop");
  return { root, pass: pass.report, blocked: blocked.report, tampered: tampered.report, loopA: "loop-builtin", loopB: "loop-noop" };
}

// The user's seam, fixed: Case is Pi-based. A Case binary that is really Pi in --mode json
// is understood through its event stream. (The failing side — no usable result ⇒ explained
// protocol failure — is in run-pipeline.test.ts and the validators.)
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runOnce } from "../src/run/lifecycle.ts";
import { verifyBundle } from "../src/evidence/verify.ts";
import { PI_CLI, PI_EXTENSION_FILE } from "../src/engines/pi.ts";
import { agentScript, baseEnv, tempDir } from "./helpers/run-env.ts";

const NODE_MODULES = fileURLToPath(new URL("../node_modules", import.meta.url));
const SRC = fileURLToPath(new URL("../src", import.meta.url));

/** A Pi-based Case: reads the task file, runs the real Pi agent in JSON mode on the harness's endpoint. */
function piBasedCase(dir: string): string {
  return agentScript(
    dir,
    "case-pi.sh",
    `#!/bin/sh
set -e
export PI_CODING_AGENT_DIR="$HOME/.case-pi"
export PI_OFFLINE=1
mkdir -p "$PI_CODING_AGENT_DIR"
echo '{"retry":{"enabled":false,"provider":{"maxRetries":0}},"compaction":{"enabled":false}}' > "$PI_CODING_AGENT_DIR/settings.json"
node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.env.CTO_HARNESS_TASK_FILE, "utf8")).instruction)' \\
  | node ${PI_CLI} --mode json --no-session --no-extensions --no-skills --no-prompt-templates --no-themes --no-context-files --offline \\
      -e ${PI_EXTENSION_FILE} --provider cto-harness --model "$OPENAI_MODEL"
`,
  );
}

describe("case engine with a Pi-based agent", () => {
  it("parses the Pi event stream: the agent fixes the fixture inside the sandbox ⇒ pass", async () => {
    const dir = tempDir("case-pi");
    const runsDir = tempDir("runs");
    const { report, runDir } = await runOnce({
      fixture: "r1-string-slugify",
      engine: "case",
      provider: "sim",
      model: "qwen3.6-35b-a3b",
      runsDir,
      isolation: "bwrap",
      budget: 1024,
      env: baseEnv({ CTO_HARNESS_CASE_BIN: piBasedCase(dir), CTO_HARNESS_CASE_RO_PATHS: `${NODE_MODULES}:${SRC}` }),
    });
    expect(report.status, report.failure_detail ?? "").toBe("pass");
    expect(report.isolation).toBe("bwrap");
    expect(report.agent_result).toMatchObject({ protocol_valid: true, source: "pi-events", status: "completed" });
    expect(report.agent_result?.summary).toMatch(/Fixed/);
    expect(report.changed_files).toEqual(["src/slugify.js"]);
    expect(report.model_traffic.models_seen).toEqual(["qwen3.6-35b-a3b"]);
    const trajectory = readFileSync(join(runDir, "trajectory.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(trajectory.map((e) => e.kind)).toEqual(expect.arrayContaining(["tool_call", "tool_result"]));
    expect(existsSync(join(runDir, "backend", "case-result-protocol-failed.txt"))).toBe(false);
    expect((await verifyBundle(runDir)).ok).toBe(true);
  });
});

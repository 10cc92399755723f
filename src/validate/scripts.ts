// Tiny stand-in Case agents (CTO_HARNESS_CASE_BIN) for the validator cases: each does one
// thing the harness must handle. Node scripts run by the project's own Node.

import { PI_CLI, PI_EXTENSION_FILE, PI_FLAGS, PI_SETTINGS } from "../engines/pi.ts";
import { PI_PROVIDER_NAME } from "../engines/pi-extension/provider.ts";

export type CaseScript = "well-behaved" | "asks-for-fallback" | "no-protocol" | "pi-based";

const CHAT = `
const base = (process.env.OPENAI_BASE_URL || "").replace(/\\/+$/, "");
const key = process.env.OPENAI_API_KEY || "";
async function chat(model) {
  try {
    const r = await fetch(base + "/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer " + key },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "Reply with the word ok." }], max_tokens: 1024, stream: false }),
    });
    await r.text();
    return r.status;
  } catch (e) {
    return "error " + e.message;
  }
}
function report(status, summary) {
  const fs = require("node:fs");
  fs.writeFileSync(process.env.CTO_HARNESS_RESULT_FILE, JSON.stringify({ protocol: "case-result/1", status, summary }));
}
`;

const BODIES: Record<CaseScript, string> = {
  "well-behaved": `
(async () => {
  const s = await chat(process.env.OPENAI_MODEL);
  console.log("validator agent: model request answered " + s);
  report("gave_up", "validator agent: made one model request, changed nothing");
})();`,
  "asks-for-fallback": `
(async () => {
  const s = await chat("claude-sonnet-4-6");
  console.log("validator agent: request for claude-sonnet-4-6 answered " + s);
  await chat(process.env.OPENAI_MODEL);
  report("gave_up", "validator agent: asked for a fallback model");
})();`,
  "no-protocol": `
console.log("validator agent: finished, but reports no case-result/1 result");
`,
  // Case is Pi-based: this one IS the real Pi agent in --mode json, its event stream on stdout
  // (the fixed side of the user's protocol seam).
  "pi-based": `
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const dir = path.join(process.env.HOME, ".case-pi");
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, "settings.json"), ${JSON.stringify(JSON.stringify(PI_SETTINGS))});
const task = JSON.parse(fs.readFileSync(process.env.CTO_HARNESS_TASK_FILE, "utf8"));
const args = [${JSON.stringify(PI_CLI)}, ...${JSON.stringify(PI_FLAGS)}, "-e", ${JSON.stringify(PI_EXTENSION_FILE)}, "--provider", ${JSON.stringify(PI_PROVIDER_NAME)}, "--model", process.env.OPENAI_MODEL];
const r = spawnSync(process.execPath, args, { input: task.instruction, stdio: ["pipe", "inherit", "inherit"], env: { ...process.env, PI_CODING_AGENT_DIR: dir, PI_OFFLINE: "1" } });
process.exit(r.status ?? 1);
`,
};

export function caseScriptText(kind: CaseScript, nodePath: string): string {
  // CommonJS via a .cjs-less file: run with an explicit interpreter line; `require` is available.
  return `#!${nodePath}\n"use strict";\n${CHAT}\n${BODIES[kind]}\n`;
}

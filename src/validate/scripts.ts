// Tiny stand-in Case agents (CTO_HARNESS_CASE_BIN) for the validator cases: each does one
// thing the harness must handle. Node scripts run by the project's own Node.

export type CaseScript = "well-behaved" | "asks-for-fallback" | "no-protocol";

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
};

export function caseScriptText(kind: CaseScript, nodePath: string): string {
  // CommonJS via a .cjs-less file: run with an explicit interpreter line; `require` is available.
  return `#!${nodePath}\n"use strict";\n${CHAT}\n${BODIES[kind]}\n`;
}

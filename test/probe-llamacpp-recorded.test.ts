// The probe's reading of what a real llama-server answered (test/data/llamacpp-real): each
// recorded error body, through the probe's own parser and classifier, gets the class a user
// needs. No server needed (the real tier checks the same against a live one).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { classifyResponse, emptyEvidence } from "../src/provider/classify.ts";
import { parseErrorBody } from "../src/provider/response-evidence.ts";

const DATA = join(import.meta.dirname, "data/llamacpp-real");
const ctx = { budget: 1024, serverKind: "llamacpp" as const, requestedModel: "tiny-qwen2", servedModels: ["tiny-qwen2"], modelServed: true };

function classifyRecorded(name: string, probe: "text" | "tools" = "text"): string {
  const rec = JSON.parse(readFileSync(join(DATA, `${name}.json`), "utf8")) as { response: { status: number; json?: unknown; text?: string } };
  const error = parseErrorBody(rec.response.json ?? rec.response.text ?? "");
  return classifyResponse({ ...emptyEvidence(probe), status: rec.response.status, error }, ctx).classification;
}

describe("probe classes of the recorded real llama-server errors", () => {
  it.each([
    ["context-overflow", "text", "ERR_CONTEXT_OVERFLOW"],
    ["context-overflow-stream", "text", "ERR_CONTEXT_OVERFLOW"], // a streamed request gets the same plain 400
    ["auth-missing", "text", "ERR_AUTH"],
    ["auth-wrong", "text", "ERR_AUTH"],
    ["auth-models", "text", "ERR_AUTH"],
    ["loading-health", "text", "ERR_LOADING"],
    ["no-jinja-tools", "tools", "TOOLS_REJECTED_CONFIG"],
    ["unknown-route", "text", "ERR_HTTP"],
  ] as const)("%s (%s probe) → %s", (name, probe, expected) => {
    expect(classifyRecorded(name, probe)).toBe(expected);
  });
});

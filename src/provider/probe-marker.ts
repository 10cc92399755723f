// What a probe result says to a person and to a loop: the marker file's text (found,
// expected, what to do; no URL, no key) and the fingerprint of the serving setup. Apart from
// probe.ts because it only reads a finished ProbeResult: no HTTP, no classification.
import type { ProbeResult, ServerFacts } from "./probe.ts";

const EXPECTED: Record<string, string> = {
  ERR_UNREACHABLE: "an HTTP answer from GET {base}/models",
  TOOL_CALLS_SWALLOWED: "structured `tool_calls` (or `content`) in the answer to a request that offered a tool, after any reasoning",
  REASONING_ONLY_TRUNCATED: "assistant `content` within the budget, after any reasoning",
};

/** Human text for the marker file: what was found, what was expected, what to do. No URL, no key. */
export function renderProbeMarker(result: ProbeResult): string {
  const lines: string[] = [];
  lines.push(`cto-harness response-shape probe: ${result.classification} (${result.verdict})`);
  if (result.failure_reason) lines.push(`failure_reason: ${result.failure_reason}`);
  lines.push(`model: ${result.model}    budget (max_tokens): ${result.budget}`);
  lines.push(
    `server: ${result.server.reachable ? "reachable" : "unreachable"}, kind ${result.server.kind ?? "unknown"}${result.server.version ? ` ${result.server.version}` : ""}${result.server.simulated ? " (simulator)" : ""}, serves [${result.server.models.join(", ")}]${
      result.server.context_length ? `, context ${result.server.context_length}` : ""
    }`,
  );
  lines.push("");
  lines.push("Found:");
  for (const [name, r] of [["text probe", result.text], ["tool probe", result.tools]] as const) {
    if (!r) continue;
    const parts = [
      `${name}: ${r.classification}`,
      r.connection_error ? `connection ${r.connection_error}` : `HTTP ${r.status ?? "-"}`,
      `finish_reason ${r.finish_reason ?? "-"}`,
      `reasoning ${r.reasoning_chars} chars${r.reasoning_fields.length ? ` in ${r.reasoning_fields.join("+")}` : ""}`,
      `content ${r.content_chars} chars`,
    ];
    if ("tool_calls" in r) parts.push(`tool_calls ${r.tool_calls}`);
    lines.push(`  - ${parts.join("; ")}`);
    if (r.error) lines.push(`    server said: ${r.error}`);
    if (r.content_sample) lines.push(`    content began: ${JSON.stringify(r.content_sample.slice(0, 120))}`);
    if ("non_stream_recheck" in r && r.non_stream_recheck) {
      const n = r.non_stream_recheck;
      lines.push(
        `    asked again without streaming: HTTP ${n.status ?? "-"}, finish_reason ${n.finish_reason ?? "-"}, tool_calls ${n.tool_calls}${
          n.content_sample ? `, content began: ${JSON.stringify(n.content_sample.slice(0, 120))}` : ""
        }`,
      );
    }
  }
  lines.push("");
  lines.push("Expected:");
  lines.push(
    `  ${EXPECTED[result.classification] ?? "HTTP 200 with assistant `content` (reasoning, if any, in its own field) and, when tools are offered, structured `tool_calls`"}.`,
  );
  lines.push("");
  lines.push("What to do:");
  for (const a of result.advice) lines.push(`  - ${a}`);
  if (result.advice.length === 0) lines.push("  - nothing: the endpoint's responses are usable.");
  lines.push(`  - Re-check with: cto-harness probe --model ${result.model} --budget ${result.budget}`);
  return `${lines.join("\n")}\n`;
}

/** What identifies the serving setup: loops re-probe only when it changes. */
export function fingerprintOfServer(server: Pick<ServerFacts, "kind" | "models" | "context_length" | "reachable">): string {
  if (!server.reachable) return "unreachable";
  return `${server.kind ?? "none"}|${[...server.models].sort().join(",")}|${server.context_length ?? "-"}`;
}

export function fingerprintOf(result: ProbeResult): string {
  return fingerprintOfServer(result.server);
}

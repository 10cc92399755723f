// Qwen Code `-o stream-json` messages → trajectory events. Assistant messages carry
// `thinking`, `text` and `tool_use` blocks; user messages carry `tool_result` blocks.
// The closing `result` message becomes `final` (or `model_error`) in the engine, which
// knows whether the run failed.
import { contentBlocks } from "./blocks.ts";
import type { TrajectoryInput } from "./schema.ts";

interface Block {
  type?: string;
  text?: string;
  thinking?: string;
  id?: string;
  name?: string;
  input?: unknown;
  tool_use_id?: string;
  is_error?: boolean;
  content?: unknown;
}

function blocks(content: unknown): Block[] {
  return contentBlocks<Block>(content);
}

function resultText(content: unknown): string {
  if (typeof content === "string") return content;
  return blocks(content)
    .map((b) => (typeof b.text === "string" ? b.text : ""))
    .join("");
}

/** Qwen Code puts API failures in the answer text: `[API Error: 500 ...]`. */
export function qwenApiErrorIn(text: string | null | undefined): string | null {
  if (!text) return null;
  const m = /\[API Error:[^\]]*\]?/.exec(text);
  return m ? m[0] : null;
}

export function qwenMessageToTrajectory(msg: { type: string } & Record<string, unknown>): TrajectoryInput[] {
  const m = msg.message as { content?: unknown; usage?: Record<string, unknown> } | undefined;
  if (msg.type === "assistant") {
    const out: TrajectoryInput[] = [];
    for (const b of blocks(m?.content)) {
      if (b.type === "thinking" && b.thinking) out.push({ kind: "reasoning", text: b.thinking });
      else if (b.type === "text" && b.text) {
        const apiError = qwenApiErrorIn(b.text);
        out.push(apiError ? { kind: "model_error", text: b.text } : { kind: "assistant_text", text: b.text });
      } else if (b.type === "tool_use") out.push({ kind: "tool_call", tool: String(b.name ?? ""), args: b.input, call_id: String(b.id ?? "") });
    }
    const u = m?.usage;
    if (u && out.length > 0 && (Number(u.input_tokens) > 0 || Number(u.output_tokens) > 0)) {
      out[out.length - 1]!.tokens = { prompt: Number(u.input_tokens) || 0, completion: Number(u.output_tokens) || 0 };
    }
    return out;
  }
  if (msg.type === "user") {
    return blocks(m?.content)
      .filter((b) => b.type === "tool_result")
      .map((b) => ({ kind: "tool_result" as const, call_id: String(b.tool_use_id ?? ""), text: resultText(b.content), is_error: b.is_error === true }));
  }
  return [];
}

// Pi `--mode json` events → trajectory events. Only completed messages are mapped
// (`message_end`, `tool_execution_end`): the `message_update` partials repeat the whole
// message on every delta and would multiply the file for nothing.
import { contentBlocks } from "./blocks.ts";
import type { TrajectoryInput, TrajectoryTokens } from "./schema.ts";

interface Block {
  type?: string;
  text?: string;
  thinking?: string;
  id?: string;
  name?: string;
  arguments?: unknown;
}

function blocks(content: unknown): Block[] {
  return contentBlocks<Block>(content);
}

function textOf(content: unknown): string {
  return blocks(content)
    .filter((b) => b.type === "text" && typeof b.text === "string")
    .map((b) => b.text)
    .join("");
}

export function piEventToTrajectory(ev: { type: string } & Record<string, unknown>): TrajectoryInput[] {
  if (ev.type === "message_end") {
    const m = ev.message as Record<string, unknown> | undefined;
    if (m?.role !== "assistant") return [];
    const out: TrajectoryInput[] = [];
    for (const b of blocks(m.content)) {
      if (b.type === "thinking" && b.thinking) out.push({ kind: "reasoning", text: b.thinking });
      else if (b.type === "text" && b.text) out.push({ kind: "assistant_text", text: b.text });
      else if (b.type === "toolCall") out.push({ kind: "tool_call", tool: String(b.name ?? ""), args: b.arguments, call_id: String(b.id ?? "") });
    }
    if (m.stopReason === "error" || m.stopReason === "aborted") {
      out.push({ kind: "model_error", text: typeof m.errorMessage === "string" && m.errorMessage ? m.errorMessage : `stopReason ${m.stopReason}` });
    }
    const u = m.usage as { input?: unknown; output?: unknown } | undefined;
    if (u && out.length > 0 && (Number(u.input) > 0 || Number(u.output) > 0)) {
      const tokens: TrajectoryTokens = { prompt: Number(u.input) || 0, completion: Number(u.output) || 0 };
      out[out.length - 1]!.tokens = tokens;
    }
    return out;
  }
  if (ev.type === "tool_execution_end") {
    const result = ev.result as { content?: unknown } | undefined;
    return [
      {
        kind: "tool_result",
        tool: String(ev.toolName ?? ""),
        call_id: String(ev.toolCallId ?? ""),
        text: textOf(result?.content),
        is_error: ev.isError === true,
      },
    ];
  }
  return [];
}

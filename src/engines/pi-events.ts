// Reading Pi's `--mode json` event stream (one JSON object per line). Pure: the `pi`
// engine and the `case` engine (Case is Pi-based) both feed it stdout lines.
//
// What matters, verified on pi-coding-agent 0.73.1:
// - The final answer is the text of the LAST assistant message of the LAST `agent_end`
//   (with retries on, Pi emits one `agent_end` per attempt).
// - Pi exits 0 even when the model call failed: the failure is only visible as that
//   message's `stopReason: "error"` (or "aborted") and its `errorMessage`.
// - `message_update` lines repeat the whole partial message on every delta (~1 KB each):
//   they carry nothing the `message_end` does not, so they are skipped unparsed.

export interface PiEventsSummary {
  /** Whether an `agent_end` event was seen (the stream completed at least one attempt). */
  found: boolean;
  /** Text of the last assistant message (text blocks joined), null when it had none. */
  finalText: string | null;
  /** `stop | toolUse | length | error | aborted` of the last assistant message. */
  stopReason: string | null;
  errorMessage: string | null;
  /** Number of `agent_end` events (more than one: Pi retried). */
  agentEnds: number;
  /** `auto_retry_start` events seen. */
  retries: number;
  /** Assistant messages completed (`message_end` with role assistant). */
  assistantMessages: number;
  /** Tool calls the model made, over the whole stream. */
  toolCalls: number;
  /** The last assistant message had thinking but neither text nor a tool call. */
  finalReasoningOnly: boolean;
  /** Token usage summed over assistant messages. */
  usage: { input: number; output: number };
  /** JSON event lines read, and lines that were not JSON events (ignored). */
  events: number;
  ignoredLines: number;
}

/** A content block of a Pi message (only the fields we read). */
interface PiBlock {
  type?: string;
  text?: string;
  thinking?: string;
  id?: string;
  name?: string;
  arguments?: unknown;
}

export interface PiMessage {
  role?: string;
  content?: PiBlock[] | string;
  stopReason?: string;
  errorMessage?: string;
  usage?: { input?: number; output?: number };
  toolCallId?: string;
  toolName?: string;
  isError?: boolean;
}

export interface PiAssistantView {
  text: string | null;
  thinking: string | null;
  toolCalls: { id: string; name: string; arguments: unknown }[];
  stopReason: string | null;
  errorMessage: string | null;
}

/** Parses one stdout line into a Pi event, or null (not JSON, not an object, no `type`). */
export function parsePiLine(line: string): ({ type: string } & Record<string, unknown>) | null {
  const t = line.trim();
  if (!t.startsWith("{")) return null;
  try {
    const v = JSON.parse(t) as unknown;
    if (typeof v === "object" && v !== null && typeof (v as { type?: unknown }).type === "string") {
      return v as { type: string } & Record<string, unknown>;
    }
  } catch {
    /* not JSON: ignored */
  }
  return null;
}

export function blocksOf(m: PiMessage): PiBlock[] {
  if (typeof m.content === "string") return [{ type: "text", text: m.content }];
  return Array.isArray(m.content) ? m.content.filter((b): b is PiBlock => typeof b === "object" && b !== null) : [];
}

export function viewAssistant(m: PiMessage): PiAssistantView {
  const blocks = blocksOf(m);
  const texts = blocks.filter((b) => b.type === "text" && typeof b.text === "string").map((b) => b.text!);
  const thinking = blocks.filter((b) => b.type === "thinking" && typeof b.thinking === "string").map((b) => b.thinking!);
  const toolCalls = blocks
    .filter((b) => b.type === "toolCall")
    .map((b) => ({ id: String(b.id ?? ""), name: String(b.name ?? ""), arguments: b.arguments }));
  return {
    text: texts.length ? texts.join("") : null,
    thinking: thinking.length ? thinking.join("") : null,
    toolCalls,
    stopReason: typeof m.stopReason === "string" ? m.stopReason : null,
    errorMessage: typeof m.errorMessage === "string" && m.errorMessage ? m.errorMessage : null,
  };
}

/** Streaming form: feed lines as they arrive, ask for the summary at the end. Memory stays flat. */
export interface PiEventAccumulator {
  push(line: string): void;
  /** For callers that already parsed the line (to map it elsewhere too). */
  pushEvent(ev: { type: string } & Record<string, unknown>): void;
  summary(): PiEventsSummary;
}

export function createPiEventAccumulator(): PiEventAccumulator {
  const s: PiEventsSummary = {
    found: false,
    finalText: null,
    stopReason: null,
    errorMessage: null,
    agentEnds: 0,
    retries: 0,
    assistantMessages: 0,
    toolCalls: 0,
    finalReasoningOnly: false,
    usage: { input: 0, output: 0 },
    events: 0,
    ignoredLines: 0,
  };
  // Last assistant message seen in a message_end: the fallback for an agent_end without
  // one (and, with no agent_end at all, e.g. the agent was killed, what the model last did).
  let lastAssistant: PiAssistantView | null = null;
  const setFinal = (v: PiAssistantView) => {
    s.finalText = v.text;
    s.stopReason = v.stopReason;
    s.errorMessage = v.errorMessage;
    s.finalReasoningOnly = v.text === null && v.toolCalls.length === 0 && v.thinking !== null;
  };
  const acc: PiEventAccumulator = {
    push(line: string): void {
      // Cheap pre-check: the partial-message deltas are most of the bytes and all redundant.
      if (line.includes('"type":"message_update"')) {
        s.events++;
        return;
      }
      const ev = parsePiLine(line);
      if (ev === null) {
        if (line.trim()) s.ignoredLines++;
        return;
      }
      acc.pushEvent(ev);
    },
    pushEvent(ev: { type: string } & Record<string, unknown>): void {
      s.events++;
      if (ev.type === "message_end") {
        const m = ev.message as PiMessage | undefined;
        if (m?.role !== "assistant") return;
        s.assistantMessages++;
        const v = viewAssistant(m);
        s.toolCalls += v.toolCalls.length;
        s.usage.input += Number(m.usage?.input ?? 0) || 0;
        s.usage.output += Number(m.usage?.output ?? 0) || 0;
        lastAssistant = v;
        // The most recent state wins: after a retry the next attempt's messages follow.
        setFinal(v);
      } else if (ev.type === "agent_end") {
        s.agentEnds++;
        s.found = true;
        const msgs = Array.isArray(ev.messages) ? (ev.messages as PiMessage[]) : [];
        const last = [...msgs].reverse().find((m) => m?.role === "assistant");
        if (last) setFinal(viewAssistant(last));
        else if (lastAssistant) setFinal(lastAssistant);
      } else if (ev.type === "auto_retry_start") {
        s.retries++;
      }
    },
    summary(): PiEventsSummary {
      return { ...s, usage: { ...s.usage } };
    },
  };
  return acc;
}

/** Summarises a whole Pi JSON event stream. Non-JSON and unknown lines are ignored. */
export function parsePiEvents(lines: Iterable<string>): PiEventsSummary {
  const acc = createPiEventAccumulator();
  for (const line of lines) acc.push(line);
  return acc.summary();
}

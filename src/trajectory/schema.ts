// The one trajectory schema every engine is normalised into (`<runDir>/trajectory.jsonl`):
// what the model said, thought, called and got back, in order. Engine-specific streams
// (builtin's own lines, Pi's JSON events, Qwen Code's stream-json) are mapped into it.

export type TrajectoryKind = "assistant_text" | "reasoning" | "tool_call" | "tool_result" | "model_error" | "final";

export const TRAJECTORY_KINDS: readonly TrajectoryKind[] = [
  "assistant_text",
  "reasoning",
  "tool_call",
  "tool_result",
  "model_error",
  "final",
];

export interface TrajectoryTokens {
  prompt: number;
  completion: number;
}

export interface TrajectoryEvent {
  seq: number;
  ts: string;
  engine: string;
  kind: TrajectoryKind;
  text?: string;
  tool?: string;
  args?: unknown;
  call_id?: string;
  is_error?: boolean;
  tokens?: TrajectoryTokens;
}

/** What a mapper produces: the writer stamps `seq`, and `ts`/`engine` when absent. */
export type TrajectoryInput = Omit<TrajectoryEvent, "seq" | "ts" | "engine"> & { ts?: string; engine?: string };

export function isTrajectoryKind(v: unknown): v is TrajectoryKind {
  return typeof v === "string" && (TRAJECTORY_KINDS as readonly string[]).includes(v);
}

/**
 * Accepts one already-normalised event (e.g. a line of the builtin agent's stdout) and
 * keeps only the schema's fields; null when it is not one.
 */
export function toTrajectoryInput(v: unknown): TrajectoryInput | null {
  if (typeof v !== "object" || v === null) return null;
  const o = v as Record<string, unknown>;
  if (!isTrajectoryKind(o.kind)) return null;
  const ev: TrajectoryInput = { kind: o.kind };
  if (typeof o.ts === "string") ev.ts = o.ts;
  if (typeof o.text === "string") ev.text = o.text;
  if (typeof o.tool === "string") ev.tool = o.tool;
  if (o.args !== undefined) ev.args = o.args;
  if (typeof o.call_id === "string") ev.call_id = o.call_id;
  if (typeof o.is_error === "boolean") ev.is_error = o.is_error;
  const t = o.tokens as Record<string, unknown> | undefined;
  if (t && typeof t.prompt === "number" && typeof t.completion === "number") {
    ev.tokens = { prompt: t.prompt, completion: t.completion };
  }
  return ev;
}

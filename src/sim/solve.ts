// The scripted coding trajectory of scenario `solve`: turn 1 applies the fixture's reference
// fix through whichever shell-like (or, failing that, write) tool the agent offers; once a
// tool result is back, turn 2 reports "Fixed: ...". Pure: the fix itself is passed in.
import type { Fixture } from "../fixtures/types.ts";
import type { ToolCallPlan } from "./answer.ts";
import type { MessageView, ToolView } from "./request.ts";

/** Shell tools by agent: Pi and our builtin agent `bash`, Qwen Code `run_shell_command`. */
export const SHELL_TOOL_NAMES = ["bash", "run_shell_command", "shell", "execute_command"] as const;
/** File-writing tools: Pi `write`, Qwen Code `write_file`. */
export const WRITE_TOOL_NAMES = ["write", "write_file", "create_file"] as const;

export type SolveTool =
  | { kind: "shell"; name: string; commandKey: string }
  | { kind: "write"; name: string; pathKey: string; contentKey: string; absolutePaths: boolean };

function firstKey(tool: ToolView, candidates: readonly string[]): string | null {
  for (const key of candidates) if (key in tool.properties) return key;
  return null;
}

function firstStringProperty(tool: ToolView): string | null {
  const names = [...tool.required, ...Object.keys(tool.properties)];
  for (const name of names) {
    const type = tool.properties[name]?.type;
    if (type === undefined || type === "string") return name;
  }
  return null;
}

/** The tool the scripted agent uses, with argument names read from its JSON schema. */
export function chooseSolveTool(tools: readonly ToolView[]): SolveTool | null {
  for (const wanted of SHELL_TOOL_NAMES) {
    const tool = tools.find((t) => t.name === wanted);
    if (tool === undefined) continue;
    const commandKey = firstKey(tool, ["command", "cmd", "script"]) ?? firstStringProperty(tool) ?? "command";
    return { kind: "shell", name: tool.name, commandKey };
  }
  for (const wanted of WRITE_TOOL_NAMES) {
    const tool = tools.find((t) => t.name === wanted);
    if (tool === undefined) continue;
    const pathKey = firstKey(tool, ["path", "file_path", "filePath", "filename", "file"]) ?? "path";
    const contentKey = firstKey(tool, ["content", "contents", "text", "file_text"]) ?? "content";
    const description = String(tool.properties[pathKey]?.description ?? "");
    return { kind: "write", name: tool.name, pathKey, contentKey, absolutePaths: /absolute/i.test(description) };
  }
  return null;
}

export function shellCall(tool: SolveTool & { kind: "shell" }, script: string): ToolCallPlan {
  return { name: tool.name, arguments: JSON.stringify({ [tool.commandKey]: script }) };
}

/** One write call per file. `root` (the agent's working directory, when known) makes paths absolute for tools that demand it. */
export function writeCalls(
  tool: SolveTool & { kind: "write" },
  writes: readonly { path: string; content: string }[],
  root: string | null,
): ToolCallPlan[] {
  return writes.map((w) => {
    const path = tool.absolutePaths && root !== null && !w.path.startsWith("/") ? `${root.replace(/\/+$/, "")}/${w.path}` : w.path;
    return { name: tool.name, arguments: JSON.stringify({ [tool.pathKey]: path, [tool.contentKey]: w.content }) };
  });
}

/** True once a tool result is in the conversation: time for the final answer. */
export function toolResultArrived(messages: readonly MessageView[]): boolean {
  return messages.some((m) => m.role === "tool" || m.role === "function");
}

function normalise(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** The fixture whose instruction text appears in a user message. */
export function matchFixture<F extends Pick<Fixture, "instruction">>(messages: readonly MessageView[], fixtures: readonly F[]): F | null {
  const userText = normalise(
    messages
      .filter((m) => m.role === "user")
      .map((m) => m.text)
      .join("\n"),
  );
  if (userText === "") return null;
  // Longest instruction first, so a fixture whose instruction contains another's wins.
  const candidates = [...fixtures].filter((f) => normalise(f.instruction) !== "").sort((a, b) => b.instruction.length - a.instruction.length);
  return candidates.find((f) => userText.includes(normalise(f.instruction))) ?? null;
}

/** The agent's working directory, as agents state it in their system prompts. */
export function workingDirectoryHint(messages: readonly MessageView[]): string | null {
  for (const m of messages) {
    if (m.role !== "system" && m.role !== "developer") continue;
    const found = /(?:current )?working directory(?: is)?[:\s]+`?(\/[^\s`'"]+)/i.exec(m.text);
    if (found?.[1] !== undefined) return found[1].replace(/[.,;:]+$/, "");
  }
  return null;
}

export function solveLead(fixture: Pick<Fixture, "instruction">, tool: SolveTool): string {
  const task = normalise(fixture.instruction).slice(0, 160);
  return `The task: ${task} I know what to change; I will apply the fix with the ${tool.name} tool and then check it.`;
}

export function finalMessage(fixture: Pick<Fixture, "title" | "id">): string {
  return `Fixed: ${fixture.title} (${fixture.id}). I applied the change in the workspace; the tests should pass now.`;
}

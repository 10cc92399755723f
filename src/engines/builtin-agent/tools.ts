// The builtin agent's four tools. Each returns text for the model and whether it failed;
// none throws (a bad call is the model's mistake to recover from, not a crash).
import { spawn } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { ChatCompletionFunctionTool } from "openai/resources/chat/completions";

export interface ToolOutcome {
  output: string;
  isError: boolean;
}

export interface ToolLimits {
  /** Wall-clock limit of one bash command. */
  commandTimeoutMs: number;
  /** Bash output: this many bytes of the head and of the tail are kept, the middle cut; files read are cut to this many chars. */
  maxOutputChars: number;
}

export const TOOL_DEFINITIONS: ChatCompletionFunctionTool[] = [
  {
    type: "function",
    function: {
      name: "bash",
      description: "Run a shell command (sh -c) in the repository root. Returns exit code and combined stdout/stderr.",
      parameters: {
        type: "object",
        properties: { command: { type: "string", description: "The command to run" } },
        required: ["command"],
      },
    },
  },
  {
    type: "function",
    function: {
      name: "read_file",
      description: "Read a text file (path relative to the repository root).",
      parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
    },
  },
  {
    type: "function",
    function: {
      name: "write_file",
      description: "Create or overwrite a file with the given content.",
      parameters: {
        type: "object",
        properties: { path: { type: "string" }, content: { type: "string" } },
        required: ["path", "content"],
      },
    },
  },
  {
    type: "function",
    function: {
      name: "edit_file",
      description: "Replace old_text, which must occur exactly once in the file, with new_text.",
      parameters: {
        type: "object",
        properties: { path: { type: "string" }, old_text: { type: "string" }, new_text: { type: "string" } },
        required: ["path", "old_text", "new_text"],
      },
    },
  },
];

export function truncateMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  const half = Math.floor(max / 2);
  return `${text.slice(0, half)}\n[... ${text.length - max} characters cut ...]\n${text.slice(-half)}`;
}

function runShell(command: string, cwd: string, limits: ToolLimits): Promise<ToolOutcome> {
  return new Promise((done) => {
    // Own process group, so a timeout kills everything the command started.
    const child = spawn("sh", ["-c", command], { cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    // Head and tail are kept, the middle dropped: a test run's verdict is at the end.
    const cap = limits.maxOutputChars;
    let head = Buffer.alloc(0);
    let tail = Buffer.alloc(0);
    let size = 0;
    const keep = (c: Buffer) => {
      size += c.length;
      if (head.length < cap) {
        const room = cap - head.length;
        head = Buffer.concat([head, c.subarray(0, room)]);
        c = c.subarray(room);
      }
      if (c.length) tail = Buffer.concat([tail, c]).subarray(-cap);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* gone */
      }
    }, limits.commandTimeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      done({ output: `could not run the command: ${e.message}`, isError: true });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const dropped = size - head.length - tail.length;
      const out =
        dropped > 0
          ? `${head.toString("utf8")}\n[... ${dropped} bytes cut ...]\n${tail.toString("utf8")}`
          : head.toString("utf8") + tail.toString("utf8");
      const status = timedOut
        ? `timed out after ${limits.commandTimeoutMs / 1000} s (killed)`
        : `exit code ${code ?? `none (signal ${signal})`}`;
      done({ output: `${status}\n${out}`, isError: timedOut || code !== 0 });
    });
  });
}

function str(args: Record<string, unknown>, name: string): string {
  const v = args[name];
  if (typeof v !== "string") throw new Error(`argument "${name}" must be a string`);
  return v;
}

/** Runs one tool call; `rawArgs` is the JSON text the model produced. */
export async function runTool(name: string, rawArgs: string, cwd: string, limits: ToolLimits): Promise<ToolOutcome> {
  let args: Record<string, unknown>;
  try {
    const parsed = JSON.parse(rawArgs || "{}") as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not a JSON object");
    args = parsed as Record<string, unknown>;
  } catch (e) {
    return { output: `invalid arguments for ${name}: ${(e as Error).message}`, isError: true };
  }
  try {
    switch (name) {
      case "bash":
        return await runShell(str(args, "command"), cwd, limits);
      case "read_file": {
        const text = await readFile(resolve(cwd, str(args, "path")), "utf8");
        return { output: truncateMiddle(text, limits.maxOutputChars), isError: false };
      }
      case "write_file": {
        const path = resolve(cwd, str(args, "path"));
        const content = str(args, "content");
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, content);
        return { output: `wrote ${content.length} characters to ${str(args, "path")}`, isError: false };
      }
      case "edit_file": {
        const path = resolve(cwd, str(args, "path"));
        const oldText = str(args, "old_text");
        const newText = str(args, "new_text");
        const text = await readFile(path, "utf8");
        const count = oldText ? text.split(oldText).length - 1 : 0;
        if (count !== 1) {
          return { output: `old_text must occur exactly once in ${str(args, "path")}; it occurs ${count} times`, isError: true };
        }
        // A function replacer: `$&`-style patterns in new_text stay literal.
        await writeFile(path, text.replace(oldText, () => newText));
        return { output: `edited ${str(args, "path")}`, isError: false };
      }
      default:
        return { output: `unknown tool "${name}"; available: bash, read_file, write_file, edit_file`, isError: true };
    }
  } catch (e) {
    return { output: `${name} failed: ${(e as Error).message}`, isError: true };
  }
}

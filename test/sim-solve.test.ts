// Scenario `solve`: the scripted coding trajectory real agents are driven with. Turn 1 is
// one shell call (or write calls) applying the fixture's reference fix; turn 2, after the
// tool result, is the final "Fixed: ..." answer. The OpenAI SDK is the client, to prove the
// stream is SDK-compatible.
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Fixture } from "../src/fixtures/types.ts";
import { loadFixture } from "../src/fixtures/load.ts";
import { startSimulator, type Flavour, type SimServer } from "../src/sim/server.ts";

const run = promisify(execFile);
const MODEL = "qwen3.6-35b-a3b";

let tmp: string;
let fixture: Fixture;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "cto-sim-solve-"));
  const dir = path.join(tmp, "fixture");
  await mkdir(path.join(dir, "repo", "src"), { recursive: true });
  await mkdir(path.join(dir, "solution", "src"), { recursive: true });
  await writeFile(path.join(dir, "repo", "src", "add.js"), "export const add = (a, b) => a - b;\n");
  await writeFile(path.join(dir, "solution", "src", "add.js"), "export const add = (a, b) => a + b;\n");
  await writeFile(path.join(dir, "solution", "src", "note's file.txt"), "quotes 'and' $dollars\n");
  await mkdir(path.join(dir, "tests"));
  await writeFile(path.join(dir, "tests", "add.test.js"), "// judged elsewhere\n");
  await writeFile(path.join(dir, "instruction.md"), "Fix `add` in src/add.js: it subtracts instead of adding.\n");
  await writeFile(
    path.join(dir, "fixture.yaml"),
    "id: t-add\ntitle: add subtracts\nlanguage: javascript\ntest_command: node --test tests/*.test.js\n",
  );
  fixture = await loadFixture(dir);
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const open: SimServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function sim(flavour: Flavour, withFixture = true): Promise<SimServer> {
  const server = await startSimulator({ flavour, scenario: "solve", fixture: withFixture ? fixture : undefined, reasoningTokens: 12 });
  open.push(server);
  return server;
}

const BASH_TOOL: OpenAI.Chat.ChatCompletionTool = {
  type: "function",
  function: {
    name: "bash",
    description: "Run a bash command",
    parameters: { type: "object", properties: { command: { type: "string" }, timeout: { type: "number" } }, required: ["command"] },
  },
};
const READ_TOOL: OpenAI.Chat.ChatCompletionTool = {
  type: "function",
  function: { name: "read", parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] } },
};

async function workspace(): Promise<string> {
  const ws = await mkdtemp(path.join(tmp, "ws-"));
  await cp(path.join(fixture.dir, "repo"), ws, { recursive: true });
  return ws;
}

interface Collected {
  reasoning: string;
  content: string;
  finish: string | null;
  calls: { id: string; name: string; arguments: string }[];
}

/** Accumulates an SDK stream the way agents do: tool calls by index. */
async function collect(stream: AsyncIterable<OpenAI.Chat.ChatCompletionChunk>): Promise<Collected> {
  const out: Collected = { reasoning: "", content: "", finish: null, calls: [] };
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (choice === undefined) continue;
    const delta = choice.delta as OpenAI.Chat.ChatCompletionChunk.Choice.Delta & { reasoning?: string; reasoning_content?: string };
    out.reasoning += delta.reasoning ?? delta.reasoning_content ?? "";
    out.content += delta.content ?? "";
    for (const tc of delta.tool_calls ?? []) {
      const slot = (out.calls[tc.index] ??= { id: "", name: "", arguments: "" });
      if (tc.id) slot.id = tc.id;
      if (tc.function?.name) slot.name = tc.function.name;
      slot.arguments += tc.function?.arguments ?? "";
    }
    if (choice.finish_reason) out.finish = choice.finish_reason;
  }
  return out;
}

describe("solve", () => {
  it.each(["vllm-0.16", "ollama", "llamacpp", "sglang"] as Flavour[])(
    "%s via the OpenAI SDK: one bash call applying the fix, then 'Fixed: ...' after the tool result",
    async (flavour) => {
      const server = await sim(flavour);
      const client = new OpenAI({ baseURL: server.baseUrl, apiKey: "unused", maxRetries: 0 });
      const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
        { role: "system", content: "You are a coding agent." },
        { role: "user", content: fixture.instruction },
      ];
      const turn1 = await collect(
        await client.chat.completions.create({ model: MODEL, messages, tools: [READ_TOOL, BASH_TOOL], stream: true, stream_options: { include_usage: true } }),
      );
      expect(turn1.finish).toBe("tool_calls");
      expect(turn1.reasoning.length).toBeGreaterThan(0);
      expect(turn1.calls).toHaveLength(1);
      expect(turn1.calls[0]!.name).toBe("bash");
      const { command } = JSON.parse(turn1.calls[0]!.arguments) as { command: string };

      // The command really applies the reference fix in a workspace.
      const ws = await workspace();
      await run("sh", ["-c", command], { cwd: ws });
      expect(await readFile(path.join(ws, "src", "add.js"), "utf8")).toBe("export const add = (a, b) => a + b;\n");
      expect(await readFile(path.join(ws, "src", "note's file.txt"), "utf8")).toBe("quotes 'and' $dollars\n");

      messages.push(
        { role: "assistant", content: null, tool_calls: [{ id: turn1.calls[0]!.id, type: "function", function: { name: "bash", arguments: turn1.calls[0]!.arguments } }] },
        { role: "tool", tool_call_id: turn1.calls[0]!.id, content: "(no output)" },
      );
      const turn2 = await client.chat.completions.create({ model: MODEL, messages, tools: [READ_TOOL, BASH_TOOL] });
      expect(turn2.choices[0]!.finish_reason).toBe("stop");
      expect(turn2.choices[0]!.message.content).toMatch(/^Fixed: /);
      expect(turn2.choices[0]!.message.tool_calls ?? []).toEqual([]);
      expect(server.requests.map((r) => [r.stream, r.messageCount, r.tools])).toEqual([
        [true, 2, ["read", "bash"]],
        [false, 4, ["read", "bash"]],
      ]);
    },
  );

  it("Qwen Code's run_shell_command gets the same script (non-stream)", async () => {
    const server = await sim("vllm-0.11");
    const client = new OpenAI({ baseURL: server.baseUrl, apiKey: "unused", maxRetries: 0 });
    const res = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: `Please help.\n\n${fixture.instruction}\n` }],
      tools: [
        { type: "function", function: { name: "read_file", parameters: { type: "object", properties: { absolute_path: { type: "string" } } } } },
        {
          type: "function",
          function: {
            name: "run_shell_command",
            parameters: { type: "object", properties: { command: { type: "string" }, description: { type: "string" } }, required: ["command"] },
          },
        },
      ],
    });
    const call = res.choices[0]!.message.tool_calls![0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
    expect(call.function.name).toBe("run_shell_command");
    const ws = await workspace();
    await run("sh", ["-c", (JSON.parse(call.function.arguments) as { command: string }).command], { cwd: ws });
    expect(await readFile(path.join(ws, "src", "add.js"), "utf8")).toContain("a + b");
  });

  it("write-only agents get one write call per file, with the arg names their schema declares", async () => {
    const server = await sim("vllm-0.16");
    const client = new OpenAI({ baseURL: server.baseUrl, apiKey: "unused", maxRetries: 0 });
    const res = await client.chat.completions.create({
      model: MODEL,
      messages: [
        { role: "system", content: "You are Qwen Code. Current working directory: /work/ws-1\nBe brief." },
        { role: "user", content: fixture.instruction },
      ],
      tools: [
        {
          type: "function",
          function: {
            name: "write_file",
            parameters: {
              type: "object",
              properties: { file_path: { type: "string", description: "The absolute path to the file to write to" }, content: { type: "string" } },
              required: ["file_path", "content"],
            },
          },
        },
      ],
    });
    const calls = (res.choices[0]!.message.tool_calls ?? []) as OpenAI.Chat.ChatCompletionMessageFunctionToolCall[];
    expect(res.choices[0]!.finish_reason).toBe("tool_calls");
    const args = calls.map((c) => JSON.parse(c.function.arguments) as { file_path: string; content: string });
    expect(calls.every((c) => c.function.name === "write_file")).toBe(true);
    expect(args.map((a) => a.file_path).sort()).toEqual(["/work/ws-1/src/add.js", "/work/ws-1/src/note's file.txt"]);
    expect(args.find((a) => a.file_path.endsWith("add.js"))!.content).toBe("export const add = (a, b) => a + b;\n");
  });

  it("Pi-style write tool (path, relative) when no shell tool is offered", async () => {
    const server = await sim("ollama");
    const client = new OpenAI({ baseURL: server.baseUrl, apiKey: "unused", maxRetries: 0 });
    const turn = await collect(
      await client.chat.completions.create({
        model: MODEL,
        stream: true,
        messages: [{ role: "user", content: fixture.instruction }],
        tools: [
          READ_TOOL,
          { type: "function", function: { name: "write", parameters: { type: "object", properties: { path: { type: "string" }, content: { type: "string" } } } } },
        ],
      }),
    );
    expect(turn.calls.map((c) => [c.name, (JSON.parse(c.arguments) as { path: string }).path]).sort()).toEqual([
      ["write", "src/add.js"],
      ["write", "src/note's file.txt"],
    ]);
  });

  it("without a fixture option, the built-in fixture whose instruction the agent got is solved", async () => {
    const instruction = await readFile(path.join(import.meta.dirname, "..", "fixtures", "r1-string-slugify", "instruction.md"), "utf8");
    const server = await sim("vllm-0.16", false);
    const client = new OpenAI({ baseURL: server.baseUrl, apiKey: "unused", maxRetries: 0 });
    const res = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: [{ type: "text", text: `Task:\n${instruction}\nWork in the current directory.` }] }],
      tools: [BASH_TOOL],
    });
    const call = res.choices[0]!.message.tool_calls![0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
    expect(call.function.name).toBe("bash");
    expect((JSON.parse(call.function.arguments) as { command: string }).command).toContain("src/slugify.js");
  });

  it("an unknown task gets a content-only answer and no tool call", async () => {
    const server = await sim("llamacpp", false);
    const client = new OpenAI({ baseURL: server.baseUrl, apiKey: "unused", maxRetries: 0 });
    const res = await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Write me a poem." }], tools: [BASH_TOOL] });
    expect(res.choices[0]!.finish_reason).toBe("stop");
    expect(res.choices[0]!.message.tool_calls ?? []).toEqual([]);
    expect(res.choices[0]!.message.content).toMatch(/made no changes/);
  });

  it("tool-call-as-text puts the solve call into content as <tool_call> text", async () => {
    const server = await startSimulator({ flavour: "vllm-0.16", scenario: "tool-call-as-text", fixture });
    open.push(server);
    const client = new OpenAI({ baseURL: server.baseUrl, apiKey: "unused", maxRetries: 0 });
    const res = await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: fixture.instruction }], tools: [BASH_TOOL] });
    expect(res.choices[0]!.message.tool_calls).toEqual([]);
    expect(res.choices[0]!.message.content).toMatch(/^<tool_call>\n<function=bash>\n<parameter=command>\n#!\/bin\/sh/);
  });
});

// `cto-harness proxy` as a real process: prints how to reach it (never the upstream URL),
// forwards, refuses other models, and prints one JSON summary when stopped.
import { afterEach, describe, expect, it } from "vitest";
import http from "node:http";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

// The real CLI entry point (src/cli/main.ts), run by the project's Node.
const MAIN = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
const MODEL = "qwen3.6-35b-a3b";

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...extra };
  return env;
}

interface Proc {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function start(args: string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", MAIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"], cwd: fileURLToPath(new URL("..", import.meta.url)) });
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function waitFor<T>(get: () => T | null | undefined, what: string, ms = 20_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = get();
    if (value) return value;
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function post(baseUrl: string, token: string, body: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${baseUrl}/chat/completions`);
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

describe("cto-harness proxy (CLI)", () => {
  it("forwards to qwen-local, refuses another model, and prints a JSON summary on SIGINT without the upstream URL", async () => {
    const upstream = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ choices: [{ index: 0, message: { content: "4" }, finish_reason: "stop" }], usage: { prompt_tokens: 3, completion_tokens: 1 } }));
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => upstream.close(resolve)));
    const port = (upstream.address() as { port: number }).port;
    const secretUrl = `http://clicanaryuser:cli-canary-pass-42@127.0.0.1:${port}/v1?key=cli-canary-query-77`;

    const proc = start(["proxy", "--provider", "qwen-local", "--model", MODEL, "--json"], baseEnv({ CTO_HARNESS_CASE_LOCAL_BASE_URL: secretUrl }));
    const baseUrl = await waitFor(() => /OPENAI_BASE_URL=(\S+)/.exec(proc.stderr())?.[1], "the base URL line");
    const token = await waitFor(() => /OPENAI_API_KEY=(\S+)/.exec(proc.stderr())?.[1], "the token line");
    expect(proc.stdout()).toBe(""); // --json keeps stdout for the one summary document

    expect((await post(baseUrl, token, { model: MODEL, messages: [] })).status).toBe(200);
    expect((await post(baseUrl, token, { model: "claude-sonnet-4-6", messages: [] })).status).toBe(403);
    await waitFor(() => proc.stderr().includes("#2 "), "the second request line");

    proc.child.kill("SIGINT");
    expect(await proc.exited).toBe(1); // a refused fallback attempt makes the session fail
    const summary = JSON.parse(proc.stdout());
    expect(summary).toMatchObject({
      provider: "qwen-local",
      admitted_model: MODEL,
      requests: 2,
      models_seen: [MODEL, "claude-sonnet-4-6"],
      prompt_tokens: 3,
      completion_tokens: 1,
      fallback_detected: true,
      refused_requests: 1,
    });
    const output = proc.stdout() + proc.stderr();
    for (const canary of ["clicanaryuser", "cli-canary-pass-42", "cli-canary-query-77", `127.0.0.1:${port}`]) {
      expect(output).not.toContain(canary);
    }
  });

  it("fronts the built-in simulator with --provider sim and prints the exports on stdout", async () => {
    const proc = start(["proxy", "--provider", "sim"], baseEnv({}));
    const baseUrl = await waitFor(() => /OPENAI_BASE_URL=(\S+)/.exec(proc.stdout())?.[1], "the base URL line");
    const token = await waitFor(() => /OPENAI_API_KEY=(\S+)/.exec(proc.stdout())?.[1], "the token line");
    expect(proc.stdout()).toContain(`OPENAI_MODEL=${MODEL}`);
    const answer = await post(baseUrl, token, { model: MODEL, messages: [{ role: "user", content: "What is 2+2?" }] });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).choices[0].finish_reason).toBeTruthy();
    await waitFor(() => proc.stderr().includes(`#1 POST /v1/chat/completions ${MODEL} 200`), "the request line");
    proc.child.kill("SIGINT");
    expect(await proc.exited).toBe(0);
    expect(proc.stderr()).toContain("1 request(s)");
    expect(proc.stderr()).toContain("no fallback");
  });

  it("exits 2 and names the variable when the provider's URL is not set", async () => {
    const proc = start(["proxy", "--provider", "qwen-local"], baseEnv({}));
    expect(await proc.exited).toBe(2);
    expect(proc.stderr()).toContain("CTO_HARNESS_CASE_LOCAL_BASE_URL is not set");
  });

  it("exits 64 for an unknown provider", async () => {
    const proc = start(["proxy", "--provider", "nope"], baseEnv({}));
    expect(await proc.exited).toBe(64);
    expect(proc.stderr()).toContain("unknown provider 'nope'");
  });
});

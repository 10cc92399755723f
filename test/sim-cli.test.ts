// `cto-harness sim` as a real process: prints its base URL (or one JSON document), serves
// until SIGTERM, refuses unknown flavours/scenarios with exit 64 and the valid list, and
// never prints the API key it was told to require.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

// The real CLI entry point (src/cli/main.ts), run by the project's Node.
const MAIN = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));

interface Proc {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

function start(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", MAIN, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    cwd: fileURLToPath(new URL("..", import.meta.url)),
  });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function firstLine(proc: Proc): Promise<string> {
  for (let i = 0; i < 400; i++) {
    const out = proc.stdout();
    if (out.includes("\n")) return out.split("\n")[0]!;
    if (proc.child.exitCode !== null) throw new Error(`sim exited ${proc.child.exitCode}: ${proc.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no output from sim; stderr: ${proc.stderr()}`);
}

describe("cto-harness sim", () => {
  it("prints the base URL, serves the chosen flavour and stops cleanly on SIGTERM", async () => {
    const proc = start(["sim", "--flavour", "ollama", "--scenario", "v1", "--model", "m-one", "m-two"]);
    const url = await firstLine(proc);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const models = (await (await fetch(`${url}/models`)).json()) as { data: { id: string; owned_by: string }[] };
    expect(models.data.map((m) => [m.id, m.owned_by])).toEqual([
      ["m-one", "library"],
      ["m-two", "library"],
    ]);
    proc.child.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    expect(proc.stdout().trim().split("\n")).toHaveLength(1);
  });

  it("--json prints one document; --api-key-env requires the key without ever printing it", async () => {
    const key = "sk-sim-very-secret-value";
    const proc = start(["sim", "--flavour", "vllm-0.16", "--scenario", "V1", "--api-key-env", "MY_SIM_KEY", "--json"], { MY_SIM_KEY: key });
    const doc = JSON.parse(await firstLine(proc)) as Record<string, unknown>;
    expect(doc).toMatchObject({ flavour: "vllm-0.16", scenario: "V1", endpoint_kind: "simulated", api_key_required: true });
    const url = doc.base_url as string;
    expect((await fetch(`${url}/models`)).status).toBe(401);
    expect((await fetch(`${url}/models`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    proc.child.kill("SIGINT");
    expect(await proc.exited).toBe(0);
    expect(proc.stdout() + proc.stderr()).not.toContain(key);
  });

  it.each([
    [["sim", "--flavour", "tgi"], /valid flavours: vllm-0.8, vllm-0.11, vllm-0.16, vllm-main, llamacpp, ollama, sglang, lmstudio/],
    [["sim", "--scenario", "V6"], /valid scenarios: solve, .*V2b.*E6/],
    [["sim", "--flavour", "vllm-0.16", "--scenario", "V11"], /cannot happen on vLLM/],
    [["sim", "--api-key-env", "CTO_SIM_TEST_UNSET_VAR"], /CTO_SIM_TEST_UNSET_VAR/],
    [["sim", "--fixture", "no-such-fixture-id"], /--fixture/],
  ])("usage error %j exits 64", async (args, message) => {
    const proc = start(args);
    expect(await proc.exited).toBe(64);
    expect(proc.stderr()).toMatch(message);
    expect(proc.stdout()).toBe("");
  });
});

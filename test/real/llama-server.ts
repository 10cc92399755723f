// A real llama.cpp `llama-server` for the real-server test tier: built once per machine by
// scripts/llama-server/build.sh (cached by source commit), a tiny random-weight Qwen2 model
// generated deterministically by scripts/llama-server/make-model.py (cached by a hash of
// its inputs), and a start/stop helper on a free loopback port.
//
// The API key goes to the server in its environment (LLAMA_API_KEY), never in argv: argv is
// world-readable in /proc. The base URL is returned to the caller only.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const SCRIPTS_DIR = join(REPO, "scripts/llama-server");
export const TEMPLATES = {
  qwen: join(SCRIPTS_DIR, "templates/qwen.jinja"),
  "qwen-thinking": join(SCRIPTS_DIR, "templates/qwen-thinking.jinja"),
} as const;
export type TemplateName = keyof typeof TEMPLATES;

/** The model id the server answers with (`--alias`), so no file path shows in /v1/models. */
export const TINY_MODEL_ALIAS = "tiny-qwen2";

export interface LlamaInstall {
  /** The cache entry: bin/llama-server, gguf-py/, models/, SOURCE. */
  dir: string;
  binary: string;
  /** The llama.cpp commit the binary was built from. */
  commit: string;
}

/**
 * Runs the build script (a no-op when the cache entry exists) and returns the install.
 * `allowBuild: false` only looks: null when the binary is not built yet.
 */
export function ensureLlamaServer(opts: { allowBuild?: boolean; env?: NodeJS.ProcessEnv } = {}): LlamaInstall | null {
  const script = join(SCRIPTS_DIR, "build.sh");
  const env = opts.env ?? process.env;
  const printed = spawnSync(script, ["--print"], { encoding: "utf8", env });
  if (printed.status !== 0) throw new Error(`build.sh --print failed: ${printed.stderr}`);
  let dir = printed.stdout.trim();
  if (!existsSync(join(dir, "bin/llama-server"))) {
    if (opts.allowBuild === false) return null;
    const built = spawnSync(script, [], { encoding: "utf8", env, stdio: ["ignore", "pipe", "inherit"] });
    if (built.status !== 0) throw new Error(`scripts/llama-server/build.sh failed (exit ${built.status}); see its output above`);
    dir = built.stdout.trim().split("\n").pop()!;
  }
  const source = readFileSync(join(dir, "SOURCE"), "utf8");
  const commit = /^commit=(\w+)$/m.exec(source)?.[1] ?? "unknown";
  return { dir, binary: join(dir, "bin/llama-server"), commit };
}

export interface TinyModelOptions {
  /** The template embedded in the GGUF (`tokenizer.chat_template`); a server may override it. */
  template?: TemplateName;
  layers?: number;
  /** A scripted model: after a newline it always writes this text, then <|im_end|> (make-model.py --script). */
  script?: string;
}

/** What the scripted model writes: a Hermes/Qwen tool call of the probe's own tool. */
export const SCRIPTED_TOOL_CALL = '<tool_call>\n{"name":"get_weather","arguments":{"city": "Paris"}}\n</tool_call>';

/** The tiny model's path, generated on first use; cached by a hash of everything that shapes it. */
export function ensureTinyModel(install: LlamaInstall, opts: TinyModelOptions = {}): string {
  const generator = join(SCRIPTS_DIR, "make-model.py");
  const template = TEMPLATES[opts.template ?? "qwen"];
  const layers = opts.layers ?? 2;
  const key = createHash("sha256")
    .update(readFileSync(generator))
    .update(readFileSync(template))
    .update(`${install.commit}\0${layers}\0${opts.script ?? ""}`)
    .digest("hex")
    .slice(0, 16);
  const out = join(install.dir, "models", `tiny-qwen2-${key}.gguf`);
  if (existsSync(out)) return out;
  mkdirSync(dirname(out), { recursive: true });
  const part = `${out}.part-${process.pid}`;
  const vocab = join(install.dir, "models/ggml-vocab-qwen2.gguf");
  const script = opts.script !== undefined ? ["--script", opts.script] : [];
  const r = spawnSync("python3", [generator, join(install.dir, "gguf-py"), vocab, part, template, "--layers", String(layers), ...script], { encoding: "utf8" });
  if (r.status !== 0) {
    rmSync(part, { force: true });
    throw new Error(`make-model.py failed (exit ${r.status}): ${r.stderr.slice(-2000)}\n(needs python3 with numpy: Debian python3-numpy)`);
  }
  renameSync(part, out); // atomic: a concurrent or killed generation never leaves a half model
  return out;
}

export interface LlamaServerOptions {
  install: LlamaInstall;
  model: string;
  /** `--chat-template-file`: a template other than the one in the GGUF. */
  template?: TemplateName;
  /** `--jinja` (default true) / `--no-jinja`. */
  jinja?: boolean;
  /** `--reasoning-format` (default: the server's own default, `auto`). */
  reasoningFormat?: "auto" | "none" | "deepseek" | "deepseek-legacy";
  /** Required bearer key; passed as LLAMA_API_KEY in the server's environment. */
  apiKey?: string;
  /** `-c`: the context size (default 4096). */
  ctx?: number;
  /** `-np`: parallel slots (default 2: the probe asks its text and tool questions at once). */
  parallel?: number;
  extraArgs?: string[];
  /** Deadline for /health to say ok (default 60 s). */
  readyTimeoutMs?: number;
}

export interface RunningLlamaServer {
  baseUrl: string;
  origin: string;
  port: number;
  pid: number;
  /** The last 64 KiB of the server's stdout+stderr. */
  log(): string;
  /** Resolves once /health says ok (rejects on exit or deadline). */
  ready(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** The argv of llama-server for these options (pure; the key is never in it). */
export function llamaServerArgs(opts: LlamaServerOptions, port: number): string[] {
  const args = ["-m", opts.model, "--host", "127.0.0.1", "--port", String(port), "--alias", TINY_MODEL_ALIAS];
  args.push(opts.jinja === false ? "--no-jinja" : "--jinja");
  if (opts.template) args.push("--chat-template-file", TEMPLATES[opts.template]);
  if (opts.reasoningFormat) args.push("--reasoning-format", opts.reasoningFormat);
  args.push("-c", String(opts.ctx ?? 4096), "-np", String(opts.parallel ?? 2));
  // Two shared cores: one compute thread; fixed seed so a greedy answer repeats.
  args.push("--threads", "1", "--threads-batch", "1", "--seed", "42", "--no-webui");
  return [...args, ...(opts.extraArgs ?? [])];
}

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolvePort(port));
    });
  });
}

/** Starts llama-server; retries on a port taken between choosing and binding. */
export async function startLlamaServer(opts: LlamaServerOptions): Promise<RunningLlamaServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const server = spawnServer(opts, await freeLoopbackPort());
    try {
      await server.ready(opts.readyTimeoutMs ?? 60_000);
      return server;
    } catch (e) {
      lastError = e;
      await server.stop();
      if (!/bind|address already in use/i.test(server.log())) break;
    }
  }
  throw lastError;
}

/** Spawns llama-server on a free port without waiting for it (to watch it start). */
export async function spawnLlamaServer(opts: LlamaServerOptions): Promise<RunningLlamaServer> {
  return spawnServer(opts, await freeLoopbackPort());
}

function spawnServer(opts: LlamaServerOptions, port: number): RunningLlamaServer {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/" };
  if (opts.apiKey) env.LLAMA_API_KEY = opts.apiKey;
  const child = spawn(opts.install.binary, llamaServerArgs(opts, port), { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const keep = (b: Buffer) => {
    log = (log + b.toString("utf8")).slice(-65536);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.once("error", (e) => keep(Buffer.from(`spawn error: ${e.message}\n`)));
  const origin = `http://127.0.0.1:${port}`;
  return {
    baseUrl: `${origin}/v1`,
    origin,
    port,
    pid: child.pid ?? -1,
    log: () => log,
    ready: (timeoutMs = 60_000) => waitReady(origin, child, exited, timeoutMs, () => log),
    stop: () => stopGroup(child, exited),
  };
}

async function waitReady(origin: string, child: ChildProcess, exited: Promise<void>, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void exited.then(() => (gone = true));
  while (Date.now() < deadline) {
    if (gone) throw new Error(`llama-server exited (code ${child.exitCode}) before it was ready:\n${log().slice(-4000)}`);
    try {
      const res = await fetch(`${origin}/health`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`llama-server not ready within ${timeoutMs} ms:\n${log().slice(-4000)}`);
}

async function stopGroup(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const kill = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig); // the whole process group: the server was spawned detached
    } catch {
      // already gone
    }
  };
  kill("SIGTERM");
  const timer = setTimeout(() => kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

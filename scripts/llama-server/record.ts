// Records what the real llama-server answers to scripts/llama-server/exchanges.ts into
// test/data/llamacpp-real/<name>.json (scrubbed: test/data/llamacpp-real/README.md).
//
//   node scripts/llama-server/record.ts [--out DIR]
//
// Builds llama-server and the tiny model on first use (scripts/llama-server/build.sh).
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ensureLlamaServer, ensureTinyModel, SCRIPTED_TOOL_CALL, spawnLlamaServer, startLlamaServer, type LlamaInstall, type LlamaServerOptions, type RunningLlamaServer } from "../../test/real/llama-server.ts";
import { EXCHANGES, RECORDING_KEY, type Exchange, type ServerSetup } from "./exchanges.ts";
import { sendExchange } from "./replay.ts";
import { scrubResponse, type RecordedResponse } from "./shapes.ts";

function setupOptions(setup: ServerSetup, install: LlamaInstall, model: string): LlamaServerOptions {
  const base: LlamaServerOptions = { install, model };
  switch (setup) {
    case "plain":
    case "loading":
      return base;
    case "thinking":
      return { ...base, template: "qwen-thinking" };
    case "keyed":
      return { ...base, apiKey: RECORDING_KEY };
    case "small-ctx":
      return { ...base, ctx: 256, parallel: 1 };
    case "no-jinja":
      return { ...base, jinja: false };
    case "scripted":
      return { ...base, model: ensureTinyModel(install, { script: SCRIPTED_TOOL_CALL }) };
  }
}

/** The first answer of a starting server that is not "connection refused" (llama.cpp listens before loading). */
async function firstAnswerWhileStarting(opts: LlamaServerOptions, ex: Exchange): Promise<{ server: RunningLlamaServer; response: RecordedResponse | null }> {
  const server = await spawnLlamaServer(opts);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const r = await sendExchange(server.origin, ex, RECORDING_KEY);
      return { server, response: r.status === 503 ? r : null };
    } catch {
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  return { server, response: null };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: "string", default: "test/data/llamacpp-real" } } });
  const out = resolve(values.out!);
  mkdirSync(out, { recursive: true });
  const install = ensureLlamaServer()!;
  const model = ensureTinyModel(install);
  const servers = new Map<ServerSetup, RunningLlamaServer>();
  const written: string[] = [];
  try {
    for (const ex of EXCHANGES) {
      let response: RecordedResponse | null;
      if (ex.setup === "loading") {
        // Several tries: the loading window of a tiny model is short.
        response = null;
        for (let i = 0; i < 20 && response === null; i++) {
          const got = await firstAnswerWhileStarting(setupOptions("loading", install, model), ex);
          response = got.response;
          await got.server.stop();
        }
        if (response === null) {
          process.stderr.write(`record: ${ex.name}: never caught the server loading; not recorded\n`);
          continue;
        }
      } else {
        let server = servers.get(ex.setup);
        if (!server) {
          server = await startLlamaServer(setupOptions(ex.setup, install, model));
          servers.set(ex.setup, server);
        }
        response = await sendExchange(server.origin, ex, RECORDING_KEY);
      }
      const recording = {
        llama_cpp_commit: install.commit,
        name: ex.name,
        setup: ex.setup,
        request: { method: ex.method, path: ex.path, body: ex.body, raw_body: ex.rawBody, auth: ex.auth },
        sim: ex.sim,
        response: scrubResponse(response),
      };
      writeFileSync(join(out, `${ex.name}.json`), `${JSON.stringify(recording, null, 2)}\n`);
      written.push(ex.name);
    }
  } finally {
    for (const s of servers.values()) await s.stop();
  }
  process.stderr.write(`record: wrote ${written.length} recordings to ${out} (llama.cpp ${install.commit})\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`record.ts: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});

// Starts the real-tier llama-server (building it and the tiny model on first use) on a free
// loopback port, prints its base URL, and stops it (the whole process group) on SIGINT/SIGTERM.
//
//   node scripts/llama-server/serve.ts [--template qwen|qwen-thinking] [--reasoning-format F]
//        [--api-key-env VAR] [--ctx N] [--no-jinja] [--json] [-- EXTRA_LLAMA_SERVER_ARGS...]
//
// `--api-key-env VAR` makes the server require the key held in $VAR (passed to it in its
// environment, never in argv; the value is never printed).
import { parseArgs } from "node:util";
import { ensureLlamaServer, ensureTinyModel, startLlamaServer, TEMPLATES, TINY_MODEL_ALIAS, type TemplateName } from "../../test/real/llama-server.ts";

const USAGE = "usage: node scripts/llama-server/serve.ts [--template qwen|qwen-thinking] [--reasoning-format auto|none|deepseek|deepseek-legacy] [--api-key-env VAR] [--ctx N] [--no-jinja] [--json] [-- ARGS...]";
const FORMATS = ["auto", "none", "deepseek", "deepseek-legacy"] as const;

function fail(message: string): never {
  process.stderr.write(`serve.ts: ${message}\n${USAGE}\n`);
  process.exit(64);
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        template: { type: "string", default: "qwen" },
        "reasoning-format": { type: "string" },
        "api-key-env": { type: "string" },
        ctx: { type: "string", default: "4096" },
        "no-jinja": { type: "boolean", default: false },
        json: { type: "boolean", default: false },
      },
    });
  } catch (e) {
    fail((e as Error).message);
  }
  const v = parsed.values;
  if (!(v.template! in TEMPLATES)) fail(`unknown --template '${v.template}'; one of: ${Object.keys(TEMPLATES).join(", ")}`);
  const format = v["reasoning-format"];
  if (format !== undefined && !(FORMATS as readonly string[]).includes(format)) fail(`unknown --reasoning-format '${format}'; one of: ${FORMATS.join(", ")}`);
  const ctx = Number(v.ctx);
  if (!Number.isInteger(ctx) || ctx < 64) fail(`--ctx must be an integer ≥ 64, got '${v.ctx}'`);
  let apiKey: string | undefined;
  if (v["api-key-env"]) {
    apiKey = process.env[v["api-key-env"]];
    if (!apiKey) fail(`--api-key-env ${v["api-key-env"]}: that variable is not set`);
  }

  const install = ensureLlamaServer()!;
  const model = ensureTinyModel(install);
  const server = await startLlamaServer({
    install,
    model,
    template: v.template as TemplateName,
    jinja: !v["no-jinja"],
    reasoningFormat: format as (typeof FORMATS)[number] | undefined,
    apiKey,
    ctx,
    extraArgs: parsed.positionals,
  });
  if (v.json) {
    process.stdout.write(`${JSON.stringify({ base_url: server.baseUrl, port: server.port, model: TINY_MODEL_ALIAS, llama_cpp_commit: install.commit, template: v.template, api_key_required: apiKey !== undefined, endpoint_kind: "real" })}\n`);
  } else {
    process.stdout.write(`${server.baseUrl}\n`);
    process.stderr.write(`llama-server ${install.commit.slice(0, 12)} serving '${TINY_MODEL_ALIAS}' (template ${v.template}); Ctrl-C stops it\n`);
  }
  const stop = () => void server.stop().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`serve.ts: ${(e as Error).message}\n`);
  process.exit(1);
});

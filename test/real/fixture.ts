// Shared set-up of the real tier's test files: the built llama-server (npm run test:real builds
// it first; a test file never starts a 20-minute build by itself), the tiny model, and servers
// stopped after the file.
import { afterAll } from "vitest";
import { ensureLlamaServer, ensureTinyModel, startLlamaServer, type LlamaInstall, type LlamaServerOptions, type RunningLlamaServer } from "./llama-server.ts";

export function requireInstall(): LlamaInstall {
  const install = ensureLlamaServer({ allowBuild: false });
  if (install === null) {
    throw new Error("llama-server is not built on this machine: run `npm run test:real` (it builds once, ~20 min on 2 cores) or scripts/llama-server/build.sh");
  }
  return install;
}

const running: RunningLlamaServer[] = [];
afterAll(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

/** A llama-server with the tiny model, stopped after the test file. */
export async function realServer(opts: Omit<LlamaServerOptions, "install" | "model"> = {}): Promise<RunningLlamaServer> {
  const install = requireInstall();
  const server = await startLlamaServer({ install, model: ensureTinyModel(install), ...opts });
  running.push(server);
  return server;
}

// Stage proxy: the run's recording proxy, the only model endpoint the agent ever sees
// (DESIGN §8). In the sandbox it also listens on a Unix socket bound into it.
import { join } from "node:path";
import { tmpdir } from "node:os";
import { randomBytes } from "node:crypto";
import { startRecordingProxy } from "../../proxy/proxy.ts";
import type { RunContext, RunState, StageUpdate } from "../context.ts";

export async function startProxy(ctx: RunContext, state: RunState): Promise<StageUpdate> {
  if (!ctx.fixture || !state.engine.usesModel || !state.upstream) return {};
  const socketPath = state.isolationUsed === "bwrap" ? join(tmpdir(), `cto-harness-${randomBytes(6).toString("hex")}.sock`) : undefined;
  const proxy = ctx.resources.add(await startRecordingProxy({
    upstreamBaseUrl: state.upstream.baseUrl,
    upstreamApiKey: state.upstream.apiKey,
    admittedModel: ctx.opts.model,
    recordFile: join(ctx.backendDir, "model-requests.jsonl"),
    unixSocketPath: socketPath,
    modelSlots: ctx.opts.modelSlots,
    onRecord: (rec) => ctx.trace.emit("model_request", { ...rec }),
  }));
  ctx.trace.emit("proxy_started", { isolation: state.isolationUsed });
  return { proxy };
}

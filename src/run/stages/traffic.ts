// Stage traffic (finalisation; runs on every path): no fallback to another model, and proof
// that the admitted model did the work. Also makes sure the bundle's always-present files exist.
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeJsonAtomic } from "../../evidence/files.ts";
import { writeMarker } from "../../evidence/markers.ts";
import { MARKERS } from "../../evidence/report.ts";
import type { ModelTrafficSummary } from "../../proxy/proxy.ts";
import type { RunContext, RunState, StageUpdate } from "../context.ts";

const NO_TRAFFIC: ModelTrafficSummary = {
  requests: 0,
  models_seen: [],
  prompt_tokens: 0,
  completion_tokens: 0,
  fallback_detected: false,
  refused_requests: 0,
  errors: 0,
  models_answered: [],
};

export async function checkTraffic(ctx: RunContext, state: RunState): Promise<StageUpdate> {
  const { opts } = ctx;
  const traffic = state.proxy?.summary() ?? NO_TRAFFIC;
  const answeredByAdmittedModel = (state.proxy?.records() ?? []).filter((r) => !r.refused && r.model === opts.model && r.status >= 200 && r.status < 300).length;
  if (!existsSync(join(ctx.backendDir, "model-requests.jsonl")) && state.engine.usesModel && state.outcome) {
    await writeFile(join(ctx.backendDir, "model-requests.jsonl"), "");
  }
  const markers: string[] = [];
  if (traffic.fallback_detected) {
    const others = traffic.models_seen.filter((m) => m !== opts.model);
    await writeMarker(ctx.backendDir, MARKERS.modelFallbackDetected, {
      title: "model fallback detected",
      found: `the agent asked for model(s) other than the admitted one: ${others.join(", ")}; the proxy refused ${traffic.refused_requests ?? 0} request(s)`,
      expected: `every model request for ${opts.model} (provider ${opts.provider})`,
      todo: "configure the agent to use only the admitted model (check its fallback / default model settings)",
      details: [`models seen, in order: ${traffic.models_seen.join(", ")}`, "per-request records: backend/model-requests.jsonl"],
    });
    markers.push(`backend/${MARKERS.modelFallbackDetected}`);
  }
  // The bundle always has a patch file (empty when there was no change).
  if (!existsSync(join(ctx.runDir, "workspace.patch"))) {
    await writeFile(join(ctx.runDir, "workspace.patch"), "");
    await writeJsonAtomic(join(ctx.runDir, "changed-files.json"), []);
  }
  return { traffic, answeredByAdmittedModel, markers };
}

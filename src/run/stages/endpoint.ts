// Stage endpoint: reachability, /v1/models and the response-shape probe (DESIGN §5). For the
// `sim` provider the in-process simulator is started here; the lifecycle closes it.
import { join } from "node:path";
import { isKnownSimulatedEndpoint } from "../../config/simulated-endpoints.ts";
import { SecretValue } from "../../config/secret.ts";
import { writeJsonAtomic } from "../../evidence/files.ts";
import { probeEndpoint, renderProbeMarker, type ProbeResult } from "../../provider/probe.ts";
import { startSimulator } from "../../sim/server.ts";
import type { Flavour } from "../../sim/flavours.ts";
import { createTextRedactor, redactDeep } from "../../secrets/redact-text.ts";
import { applyUpdate, blockedUpdate, measured, type RunContext, type RunState, type StageUpdate } from "../context.ts";

/** Where the model is: the simulator this run starts, or the provider's endpoint (a secret). */
async function resolveUpstream(ctx: RunContext, state: RunState): Promise<StageUpdate> {
  const { opts } = ctx;
  const provider = state.provider;
  if (!provider?.ok) throw new Error("the endpoint stage runs only for a configured provider");
  if (provider.spec.kind === "sim") {
    const sim = ctx.resources.add(await startSimulator({
      flavour: (opts.sim?.flavour ?? "vllm-0.16") as Flavour,
      scenario: opts.sim?.scenario ?? "solve",
      models: [opts.model],
      fixture: ctx.fixture ?? undefined,
      ttftMs: opts.sim?.ttftMs,
      tokensPerSec: opts.sim?.tokensPerSec,
    }));
    return { upstream: { baseUrl: new SecretValue(sim.baseUrl) } };
  }
  const secrets = [...new Set([...state.secrets, provider.baseUrl!.reveal(), ...(provider.apiKey ? [provider.apiKey.reveal()] : [])])];
  const simulated = isKnownSimulatedEndpoint(provider.baseUrl!.reveal());
  return {
    upstream: { baseUrl: provider.baseUrl!, apiKey: provider.apiKey },
    secrets,
    ...(simulated ? { endpointKind: "simulated" as const } : {}),
  };
}

async function runProbe(ctx: RunContext, state: RunState): Promise<{ probe: ProbeResult; timings: Record<string, number> }> {
  const { opts } = ctx;
  const target = { baseUrl: state.upstream!.baseUrl, apiKey: state.upstream!.apiKey, model: opts.model };
  const probeOpts = { budget: opts.budget, signal: ctx.signal };
  // Loops share a cache: one endpoint is probed again only when its fingerprint changes.
  const { value, timings } = await measured("probe", async () =>
    opts.probeCache ? (await opts.probeCache.probe(opts.provider, target, probeOpts)).result : probeEndpoint(target, probeOpts),
  );
  // A server's error text can name its own host: never let it into the bundle.
  return { probe: redactDeep(value, createTextRedactor([...state.secrets])), timings };
}

export async function checkEndpoint(ctx: RunContext, state: RunState): Promise<StageUpdate> {
  if (!state.engine.usesModel || ctx.opts.isBaseline || !state.provider?.ok) return {};
  const upstream = await resolveUpstream(ctx, state);
  const withUpstream = applyUpdate(state, upstream);
  const { probe, timings } = await runProbe(ctx, withUpstream);
  await writeJsonAtomic(join(ctx.runDir, "probe.json"), probe);
  ctx.trace.emit("probe_finished", {
    classification: probe.classification,
    verdict: probe.verdict,
    budget: probe.budget,
    time_to_verdict_ms: probe.timings.verdict_ms,
    server_kind: probe.server.kind,
  });
  const update: StageUpdate = { ...upstream, probe, timings, ...(probe.server.simulated ? { endpointKind: "simulated" as const } : {}) };
  if (probe.verdict !== "block" || !probe.failure_reason || !probe.marker) return update;
  ctx.opts.probeCache?.invalidate(ctx.opts.provider);
  const blocked = await blockedUpdate(ctx, withUpstream, { reason: probe.failure_reason, marker: probe.marker, detail: `probe classified the endpoint as ${probe.classification}` }, renderProbeMarker(probe));
  return { ...update, ...blocked };
}

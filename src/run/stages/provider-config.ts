// Stage provider-config: an engine that needs a model needs its provider's endpoint in the
// environment. Needs no network; runs even after another gate blocked. The value is never shown.
import { resolveProvider } from "../../config/providers.ts";
import { MARKERS } from "../../evidence/report.ts";
import { blockedUpdate, type RunContext, type RunState, type StageUpdate } from "../context.ts";

export async function checkProviderConfig(ctx: RunContext, state: RunState): Promise<StageUpdate> {
  const { opts } = ctx;
  if (!state.engine.usesModel || opts.isBaseline) return {};
  const provider = resolveProvider(opts.provider, ctx.env);
  ctx.trace.emit("provider_config_checked", { provider: opts.provider, present: provider.ok, variable: provider.ok ? null : provider.missingVar });
  if (provider.ok) return { provider };
  const what = provider.problem === "missing" ? "is not set" : "is set but is not an http(s) URL (its value is not shown)";
  const blocked = await blockedUpdate(ctx, state, { reason: "provider local config unavailable", marker: MARKERS.providerLocalConfigUnavailable, detail: `${provider.missingVar} ${what}` }, {
    title: "provider local config unavailable",
    found: `${provider.missingVar} ${what} (provider ${opts.provider}); the agent was not started`,
    expected: `${provider.missingVar} set in the environment to the endpoint's OpenAI-compatible base URL (e.g. http://HOST:8000/v1)`,
    todo: `export ${provider.missingVar}=... in the shell that runs cto-harness; never write it into a file or a planning record`,
  });
  return { ...blocked, provider };
}

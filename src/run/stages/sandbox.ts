// Stage sandbox: fail closed. Every run asked to be isolated is checked: the agent AND the
// judging tests (which import the agent's code) run in the sandbox. The check is cached per process.
import { MARKERS } from "../../evidence/report.ts";
import { checkSandbox, renderSandboxMarker } from "../../sandbox/bwrap.ts";
import { blockedUpdate, type RunContext, type RunState, type StageUpdate } from "../context.ts";

export async function checkSandboxWorks(ctx: RunContext, state: RunState): Promise<StageUpdate> {
  const { opts } = ctx;
  // Only `demo` falls back (docs/isolation.md); the report and the trace say so.
  if (opts.isolationFallback) ctx.trace.emit("sandbox_checked", { ok: false, fallback: "none", reason: opts.isolationFallback.reason });
  if (opts.isolation !== "bwrap") return {};
  const sandbox = await checkSandbox();
  ctx.trace.emit("sandbox_checked", { ok: sandbox.ok });
  if (sandbox.ok) return { isolationUsed: "bwrap" };
  return blockedUpdate(ctx, state, { reason: "sandbox unavailable", marker: MARKERS.sandboxUnavailable, detail: sandbox.reason }, renderSandboxMarker(sandbox.reason, sandbox.advice));
}

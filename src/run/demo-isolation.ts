// The one place cto-harness runs an agent unsandboxed without being told to: `demo`, which
// runs our own builtin agent on the embedded simulator, with no secret in play. Pure.
// `run` and `loop` never come here: they fail closed (`sandbox unavailable`).
import type { SandboxCheck } from "../sandbox/bwrap.ts";

export type DemoIsolationAsk = "auto" | "bwrap" | "none";

export type DemoIsolation =
  | { isolation: "bwrap" | "none"; fallback: null }
  | { isolation: "none"; fallback: { reason: string; fix: string } };

/**
 * `auto` (the demo's default): bubblewrap when it starts, otherwise `none` with the reason and
 * the fix recorded. An explicit `--isolation bwrap` is honoured as asked: it fails closed.
 */
export function decideDemoIsolation(ask: DemoIsolationAsk, sandbox: SandboxCheck, fix: string): DemoIsolation {
  if (ask !== "auto") return { isolation: ask, fallback: null };
  if (sandbox.ok) return { isolation: "bwrap", fallback: null };
  return { isolation: "none", fallback: { reason: sandbox.reason, fix } };
}

/** The warning the demo prints before and after the run (stderr). */
export function renderFallbackWarning(fallback: { reason: string; fix: string }): string {
  const bar = "!".repeat(78);
  return [
    bar,
    "!! WARNING: bubblewrap is unavailable, so this demo runs WITHOUT A SANDBOX (isolation: none).",
    `!! Why: ${fallback.reason}`,
    `!! To sandbox it: ${fallback.fix}`,
    "!! Only the demo does this (our own agent, the embedded simulator, no secrets in play);",
    "!! `run` and `loop` stay blocked (`sandbox unavailable`) unless given --isolation none.",
    bar,
    "",
  ].join("\n");
}

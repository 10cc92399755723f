// When a signing key may be used at all. Pure.
//
// An agent that can read the private key can sign anything, and then no signature by that key
// means anything. Under bubblewrap the key's directory is masked from the agent (run-hook.ts);
// with `--isolation none` an agent runs as the user and could read it, so signing is refused
// for every engine that runs an agent. `fake-noop` and `fake-oracle` run no agent.
const NO_AGENT_ENGINES = new Set(["fake-noop", "fake-oracle"]);

/** Why `--key` cannot be used with these settings (what to do included), or null when it can. */
export function signingRefusal(engine: string, isolation: "bwrap" | "none"): string | null {
  if (isolation === "bwrap" || NO_AGENT_ENGINES.has(engine)) return null;
  return `--key with --isolation none: the ${engine} agent would run unsandboxed as you and could read the signing key, so its signature would prove nothing; run with --isolation bwrap (the key's directory is then hidden from the agent)`;
}

// When a signing key may be used at all. Pure.
//
// Whatever can read the private key can sign anything, and then no signature by that key
// means anything. Under bubblewrap the key's directory is masked from the agent (run-hook.ts),
// and the judge's tests see only system directories and the project's Node. With
// `--isolation none` both the agent and the fixture's test command (a task from the internet
// is hostile input too) run as the user and could read it, so signing needs the sandbox,
// whatever the engine.

/** Why `--key` cannot be used with these settings (what to do included), or null when it can. */
export function signingRefusal(engine: string, isolation: "bwrap" | "none"): string | null {
  if (isolation === "bwrap") return null;
  return `--key needs --isolation bwrap: with --isolation none the ${engine} run's agent and the fixture's test command run unsandboxed as you and could read the signing key, so its signature would prove nothing`;
}

/** The same rule applied to a finished run's report (the last check before signing it). */
export function reportSigningRefusal(report: { backend?: unknown; isolation?: unknown; isolation_requested?: unknown; case_process_started?: unknown; tests?: unknown }): string | null {
  const engine = String(report.backend);
  if (report.isolation_requested === "none") return signingRefusal(engine, "none");
  const somethingRan = report.case_process_started === true || (report.tests !== null && report.tests !== undefined);
  return somethingRan && report.isolation !== "bwrap" ? signingRefusal(engine, "none") : null;
}

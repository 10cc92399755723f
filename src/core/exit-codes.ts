// Exit codes of the CLI (DESIGN §3): part of the Harness Evidence Interface. Here, below every
// layer, because a loop's summary and `sot check` decide an exit code too.

export const EXIT = { pass: 0, fail: 1, blocked: 2, error: 3, usage: 64 } as const;

/** A run's status (evidence/report.ts RunStatus) to its exit code. */
export function exitCodeForStatus(status: "pass" | "fail" | "blocked" | "error"): number {
  return EXIT[status];
}

/** A bad invocation: the message says what was wrong and what to do. Exits 64. */
export class UsageError extends Error {}

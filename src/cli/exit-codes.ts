// Exit codes of the CLI (DESIGN §3): part of the Harness Evidence Interface.
import type { RunStatus } from "../evidence/report.ts";

export const EXIT = { pass: 0, fail: 1, blocked: 2, error: 3, usage: 64 } as const;

export function exitCodeForStatus(status: RunStatus): number {
  return EXIT[status];
}

/** A bad invocation: the message says what was wrong and what to do. Exits 64. */
export class UsageError extends Error {}

// What a caller asks of one run (CLI `run`, loops, validators, tests all go through this).
import type { EngineName } from "../engines/types.ts";
import type { ProbeCache } from "../provider/probe-cache.ts";
import type { SigningKey } from "../attest/keys.ts";

export interface RunOptions {
  /** Built-in fixture id or path of a fixture directory. */
  fixture: string;
  /** Run this impossible variant of the fixture (docs/judging.md). */
  variant?: string;
  engine: EngineName;
  /** Provider name: `qwen-local`, `sim`, or one declared in cto-harness.config.yaml. */
  provider: string;
  model: string;
  runsDir: string;
  /** Agent wall-clock timeout; defaults to the fixture's. */
  agentTimeoutSec?: number;
  isolation: "bwrap" | "none";
  /** Probe max_tokens (default 1024). */
  budget: number;
  /** Environment to resolve config from (defaults to process.env). */
  env: NodeJS.ProcessEnv;
  /** Options for the in-process simulator when provider is `sim`. */
  /** Flavour and scenario are validated by startSimulator (an unknown one is a harness error). */
  sim?: { flavour?: string; scenario?: string; ttftMs?: number; tokensPerSec?: number };
  /** Stop request (Ctrl-C, loop shutdown): the run ends `error` / `interrupted` with a complete report. */
  signal?: AbortSignal;
  /** Fixed run directory name (loops); otherwise `<ts>-<fixture>-<pid>[-n]`. */
  runId?: string;
  /** Human progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  /** Exact directory for this run (the baseline goes to `<run>/baseline`). */
  runDirPath?: string;
  /** Skip the same-run baseline (only for the baseline run itself). */
  isBaseline?: boolean;
  /** Re-use a probe result already obtained for this endpoint (loops probe once). */
  probeCache?: ProbeCache;
  /**
   * Only `demo` sets this: bubblewrap could not start, so the run uses `isolation: none` and
   * says so in its report (`isolation_fallback`) and trace. Never set by `run` or `loop`.
   */
  isolationFallback?: { reason: string; fix: string };
  /**
   * More directories the sandboxed agent must not read, besides `runsDir` and what every
   * agent gets hidden (docs/isolation.md): a loop passes the runs directory its loop
   * directory lives in, so no attempt reads another loop's runs.
   */
  hiddenPaths?: { path: string; what: string }[];
  /** Slots for in-flight model requests shared across a loop's runs (per endpoint). */
  modelSlots?: { acquire(signal?: AbortSignal): Promise<() => void> };
  /**
   * Sign the finished bundle with this key (src/attest, docs/evidence.md): an attestation over
   * manifest.json, written after it. Only the key's id is ever recorded; never the baseline.
   */
  signingKey?: SigningKey;
}

export const DEFAULT_PROBE_BUDGET = 1024;

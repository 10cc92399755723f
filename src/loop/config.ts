// A loop's configuration: what decides its results (hashed, so a resume can prove it
// continues the same experiment) versus how fast it runs (not hashed).
import { createHash } from "node:crypto";

export const LOOP_SCHEMA = "cto-harness/loop@1";

/** The part of the configuration that decides results; `--resume` requires it unchanged. */
export interface LoopConfig {
  fixtures: string[];
  engines: string[];
  attempts: number;
  provider: string;
  model: string;
  isolation: "bwrap" | "none";
  budget: number;
  agent_timeout_sec: number | null;
  /** The fixtures' impossible variants were run (`--impossible`); fixtures are then `<ref>#<variant>`. */
  impossible?: boolean;
  /** A queued loop (`--queue`): every provider and its model; absent for a local loop. */
  targets?: { provider: string; model: string }[];
}

/** How the loop runs; may change between a run and its resume. */
export interface LoopSettings {
  concurrency: number;
  model_concurrency: number;
}

/** JSON with object keys sorted at every level: one text per value. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(",")}}`;
}

export function configHash(config: LoopConfig): string {
  return "sha256:" + createHash("sha256").update(canonicalJson(config)).digest("hex");
}

/** Keys whose values differ (sorted), for a resume refusal that names them. */
export function differingKeys(a: LoopConfig, b: LoopConfig): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys]
    .filter((k) => canonicalJson((a as unknown as Record<string, unknown>)[k]) !== canonicalJson((b as unknown as Record<string, unknown>)[k]))
    .sort();
}

// Provider resolution: which endpoint a provider name means, read from the environment.
// Providers are declared by the NAMES of the variables that hold their URL and key
// (cto-harness.config.yaml), never by values; the values live only in SecretValue.
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseDocument } from "yaml";
import { z } from "zod";
import { SecretValue } from "./secret.ts";

export interface ProviderSpec {
  name: string;
  /** `sim` is the built-in simulator; every other provider is an external endpoint. */
  kind: "external" | "sim";
  urlVar?: string;
  keyVar?: string;
}

export type ResolvedProvider =
  | { ok: true; spec: ProviderSpec; baseUrl?: SecretValue; apiKey?: SecretValue }
  | { ok: false; spec: ProviderSpec; missingVar: string; problem: "missing" | "invalid" };

export const BUILTIN_PROVIDERS: Record<string, ProviderSpec> = {
  "qwen-local": {
    name: "qwen-local",
    kind: "external",
    urlVar: "CTO_HARNESS_CASE_LOCAL_BASE_URL",
    keyVar: "CTO_HARNESS_CASE_LOCAL_API_KEY",
  },
  sim: { name: "sim", kind: "sim" },
};

const ConfigFile = z.object({
  providers: z
    .record(
      z.string(),
      z.object({
        url_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be the NAME of an environment variable"),
        key_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be the NAME of an environment variable").optional(),
      }),
    )
    .optional(),
});

export class ConfigError extends Error {}

/** Providers declared in `cto-harness.config.yaml` (cwd), merged over the built-ins. */
export function loadProviderSpecs(cwd = process.cwd()): Record<string, ProviderSpec> {
  const specs = { ...BUILTIN_PROVIDERS };
  const file = resolve(cwd, "cto-harness.config.yaml");
  if (!existsSync(file)) return specs;
  const doc = parseDocument(readFileSync(file, "utf8"), { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(`${file}: ${doc.errors[0]!.message}`);
  }
  const parsed = ConfigFile.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${file}: ${issue.path.join(".")}: ${issue.message}`);
  }
  for (const [name, p] of Object.entries(parsed.data.providers ?? {})) {
    specs[name] = { name, kind: "external", urlVar: p.url_env, keyVar: p.key_env };
  }
  return specs;
}

/** Resolves a provider's endpoint from `env`. Unknown names are a usage problem for the caller. */
export function resolveProvider(name: string, env: NodeJS.ProcessEnv, cwd = process.cwd()): ResolvedProvider {
  const specs = loadProviderSpecs(cwd);
  const spec = specs[name];
  if (!spec) {
    throw new ConfigError(`unknown provider '${name}'; known providers: ${Object.keys(specs).join(", ")}`);
  }
  if (spec.kind === "sim") return { ok: true, spec };
  const url = spec.urlVar ? env[spec.urlVar]?.trim() : undefined;
  if (!url) return { ok: false, spec, missingVar: spec.urlVar ?? "(url variable)", problem: "missing" };
  if (!isHttpUrl(url)) return { ok: false, spec, missingVar: spec.urlVar ?? "(url variable)", problem: "invalid" };
  const key = spec.keyVar ? env[spec.keyVar]?.trim() : undefined;
  return { ok: true, spec, baseUrl: new SecretValue(url), apiKey: key ? new SecretValue(key) : undefined };
}

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}

/** Every secret value in play for this environment (for leak scans): URL and key of every provider. */
export function secretValuesInEnv(env: NodeJS.ProcessEnv, cwd = process.cwd()): string[] {
  const values = new Set<string>();
  for (const spec of Object.values(loadProviderSpecs(cwd))) {
    for (const v of [spec.urlVar, spec.keyVar]) {
      const value = v ? env[v]?.trim() : undefined;
      if (value) values.add(value);
    }
  }
  return [...values];
}

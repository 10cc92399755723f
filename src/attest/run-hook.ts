// The calls the run lifecycle makes into signed evidence, so the lifecycle carries two marked
// lines (and its stages refactor can move them without knowing what signing involves).
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { signBundle, type Signed } from "./sign.ts";
import type { SigningKey } from "./keys.ts";
import { reportSigningRefusal } from "./policy.ts";

interface HookOptions {
  signingKey?: SigningKey;
  isBaseline?: boolean;
  log?: (line: string) => void;
}

/** The key's directory, added to what the sandbox hides from the agent (docs/isolation.md masks). */
export function signingKeyHiddenPaths(opts: HookOptions): { path: string; what: string }[] {
  return opts.signingKey ? [{ path: dirname(opts.signingKey.path), what: "the signing key's directory" }] : [];
}

/**
 * After the manifest is written: signs the bundle when the caller gave a key. The baseline is
 * part of its run's bundle (the run's manifest covers it), so it is never signed on its own.
 * A failure throws: a run that was asked to be signed must not end looking unsigned-but-fine.
 * Backstop of policy.ts: a bundle whose agent or tests ran unsandboxed is never signed.
 */
export async function signRunIfKeyed(runDir: string, opts: HookOptions): Promise<Signed | null> {
  if (!opts.signingKey || opts.isBaseline) return null;
  const refusal = reportSigningRefusal(JSON.parse(await readFile(join(runDir, "report.json"), "utf8")) as Record<string, unknown>);
  if (refusal) throw new Error(`not signing ${runDir}: ${refusal}`);
  const signed = await signBundle(runDir, opts.signingKey);
  opts.log?.(`signed: ${signed.path} (keyid ${signed.keyid})`);
  return signed;
}

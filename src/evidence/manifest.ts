// manifest.json: sha256 and size of every other file of the bundle, written last.
import { readlink } from "node:fs/promises";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { z } from "zod";
import { bundlePath, isSymlink, listFiles, sha256File, writeJsonAtomic } from "./files.ts";

export const MANIFEST_SCHEMA = "cto-harness/manifest@1";
/**
 * The DSSE envelope signing a bundle (src/attest, docs/evidence.md). It signs manifest.json, so
 * the manifest cannot list it; `verify` parses it strictly instead (nothing else fits in it).
 */
export const ATTESTATION_FILE = "attestation.dsse.json";
export const Manifest = z.object({
  schema: z.literal(MANIFEST_SCHEMA),
  files: z.array(z.object({ path: z.string(), sha256: z.string(), bytes: z.number().int() })),
});
export type Manifest = z.infer<typeof Manifest>;

async function entryFor(dir: string, path: string): Promise<{ path: string; sha256: string; bytes: number }> {
  const full = bundlePath(dir, path);
  if (await isSymlink(full)) {
    // A symlink is recorded by its target text, never followed out of the bundle.
    const target = await readlink(full, { encoding: "buffer" });
    return { path, sha256: createHash("sha256").update("symlink:").update(target).digest("hex"), bytes: 0 };
  }
  return { path, ...(await sha256File(full)) };
}

export async function computeManifest(dir: string): Promise<Manifest> {
  // Everything but the manifest itself and the signature over it: writeJsonAtomic's temp files
  // never outlive a rename, so nothing else is excluded (an excluded name would be a place to
  // hide an added file; the attestation is parsed strictly by whoever checks it).
  const files = (await listFiles(dir)).filter((p) => p !== "manifest.json" && p !== ATTESTATION_FILE);
  // A few files at a time: bundles are many small files, and opening them is the cost.
  const entries: Manifest["files"] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      entries[i] = await entryFor(dir, files[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, files.length) }, worker));
  return { schema: MANIFEST_SCHEMA, files: entries };
}

export async function writeManifest(dir: string): Promise<Manifest> {
  const manifest = await computeManifest(dir);
  await writeJsonAtomic(join(dir, "manifest.json"), manifest);
  return manifest;
}

/** Differences between a recorded manifest and the files now on disk. */
export function compareManifests(recorded: Manifest, actual: Manifest): string[] {
  const problems: string[] = [];
  const now = new Map(actual.files.map((f) => [f.path, f]));
  for (const f of recorded.files) {
    const a = now.get(f.path);
    if (!a) problems.push(`missing file: ${f.path}`);
    else if (a.sha256 !== f.sha256 || a.bytes !== f.bytes) problems.push(`modified file: ${f.path} (sha256 differs)`);
    now.delete(f.path);
  }
  for (const extra of now.keys()) problems.push(`file not in manifest: ${extra}`);
  return problems;
}

// What the parts of one scan share: a finding and the set that keeps each once, the scan's
// running state (`Ctx`: needles, matcher, counters, the walked paths), and how a walked path
// becomes bytes again. Apart so that the walk (scan.ts), the git object scan (git-objects.ts)
// and the redaction (redact-findings.ts) share one definition without importing scan.ts.
import type { MultiMatcher } from "./matcher.ts";
import type { SecretNeedle } from "./variants.ts";

export interface Finding {
  /** Path relative to the scanned directory (for git objects: the repository's git dir). */
  file: string;
  /** `<part>/<encoding>`, e.g. `password/base64@1`. Never the value. */
  form: string;
  /** Where inside the file: plain bytes, decompressed gzip content, a git object, the file's name or a symlink's target. */
  in?: "file" | "gzip" | "git-object" | "name" | "symlink-target";
  /** Git object id, for `in: "git-object"`. */
  object?: string;
}

export class FindingSet {
  readonly list: Finding[] = [];
  #keys = new Set<string>();
  add(f: Finding): void {
    const key = `${f.file}\0${f.form}\0${f.in ?? ""}\0${f.object ?? ""}`;
    if (this.#keys.has(key)) return;
    this.#keys.add(key);
    this.list.push(f);
  }
}

export interface Ctx {
  root: string;
  needles: SecretNeedle[];
  matcher: MultiMatcher;
  findings: FindingSet;
  chunk: number;
  bytes: number;
  files: number;
  gitObjects: number;
  gitDirs: string[];
  errors: string[];
  /** Escaped relative path → the walked path (latin1: one char per byte). */
  paths: Map<string, string>;
}

/** A walked path (latin1 string) as the bytes the file system knows it by. */
export function fsPath(p: string): Buffer {
  return Buffer.from(p, "latin1");
}

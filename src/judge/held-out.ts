// Which test ids belong to the held-out tests: those whose file came from the fixture's
// `held-out/` directory (copied into the tests target of the judged tree).
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Fixture } from "../fixtures/types.ts";
import { listFiles } from "../fixtures/files.ts";

/** Relative paths, in the judged tree, of the held-out test files. */
export async function heldOutFiles(fixture: Fixture): Promise<Set<string>> {
  if (!fixture.heldOutDir) return new Set();
  const files = await listFiles(fixture.heldOutDir).catch(() => []);
  return new Set(files.map((f) => path.posix.join(fixture.testsTarget, f.rel)));
}

/** Pure: a predicate over test ids (`<file>::<name>`) for the held-out files. */
export function heldOutPredicate(files: ReadonlySet<string>): (id: string) => boolean {
  return (id) => files.has(id.slice(0, Math.max(0, id.indexOf("::"))));
}

/** The visible test files' texts (with a variant's overlay), for the special-casing literals. */
export async function visibleTestTexts(fixture: Fixture): Promise<string[]> {
  const byRel = new Map<string, string>();
  for (const f of await listFiles(path.join(fixture.dir, fixture.testsDir))) if (f.kind === "file") byRel.set(f.rel, f.abs);
  if (fixture.variant) for (const f of await listFiles(fixture.variant.dir)) if (f.kind === "file") byRel.set(f.rel, f.abs);
  return Promise.all([...byRel.values()].map((p) => readFile(p, "utf8").catch(() => "")));
}

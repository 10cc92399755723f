// What the agent changed: the pristine tree against the workspace tree, entry by entry, and
// which of those changes the judge carries into its fresh tree (pure).
import type { EntryType, TreeEntry, TreeSnapshot } from "./tree.ts";

export type ChangeStatus = "added" | "modified" | "deleted" | "type-changed" | "mode-changed";

export interface ChangeEntry {
  /** Escaped path (names.ts). */
  path: string;
  name: Buffer;
  status: ChangeStatus;
  /** The type now (`deleted`: the type it had). */
  type: EntryType;
  /** What it was before (absent when added). */
  before?: TreeEntry;
  /** What it is now (absent when deleted). */
  after?: TreeEntry;
  /** Whether the judge applies this change to its fresh tree. */
  carried: boolean;
  whyNotCarried: string | null;
}

/** Path segments never carried: caches and bytecode the code regenerates, and repository metadata. */
const NOT_CARRIED_SEGMENTS = new Map<string, string>([
  ["__pycache__", "bytecode cache (the judge runs the source)"],
  [".pytest_cache", "test-runner cache"],
  ["node_modules", "installed packages are not part of a fix"],
  [".git", "repository metadata (a nested or planted .git)"],
]);

function segments(path: string): string[] {
  return path.split("/");
}

/** Pure: whether `path` lies in the tests target (which the judge always restores pristine). */
export function inTestsTarget(path: string, testsTarget: string): boolean {
  return testsTarget === "." || path === testsTarget || path.startsWith(`${testsTarget}/`);
}

/** Pure: whether a change to `path` (of `type`) is carried into the judged tree, and why not. */
export function carryRule(path: string, type: EntryType, testsTarget: string): string | null {
  const segs = segments(path);
  for (const s of segs) {
    const why = NOT_CARRIED_SEGMENTS.get(s);
    if (why) return why;
  }
  if (/\.py[co]$/.test(path)) return "bytecode (the judge runs the source)";
  if (inTestsTarget(path, testsTarget)) {
    return "inside the tests target: the pristine tests are restored";
  }
  if (type === "other") return "not a regular file, directory or symlink";
  return null;
}

function sameContent(a: TreeEntry, b: TreeEntry): boolean {
  return a.type === b.type && a.sha256 === b.sha256;
}

/** The executable bit is what a repository records; other permission changes are listed but rarely matter. */
function modeDiffers(a: TreeEntry, b: TreeEntry): boolean {
  return a.type === "file" && b.type === "file" && (a.mode & 0o7777) !== (b.mode & 0o7777);
}

/** Pure: every difference between the pristine snapshot and the current one, sorted by path bytes. */
export function diffTrees(pristine: TreeSnapshot, current: TreeSnapshot, testsTarget: string): ChangeEntry[] {
  const out: ChangeEntry[] = [];
  const push = (path: string, status: ChangeStatus, before?: TreeEntry, after?: TreeEntry) => {
    const type = (after ?? before)!.type;
    const why = carryRule(path, type, testsTarget);
    out.push({ path, name: (after ?? before)!.name, status, type, before, after, carried: why === null, whyNotCarried: why });
  };
  for (const [key, now] of current.entries) {
    const was = pristine.entries.get(key);
    if (!was) push(key, "added", undefined, now);
    else if (was.type !== now.type) push(key, "type-changed", was, now);
    else if (now.type === "dir") {
      if (was.mode !== now.mode) push(key, "mode-changed", was, now);
    } else if (!sameContent(was, now)) push(key, "modified", was, now);
    else if (modeDiffers(was, now)) push(key, "mode-changed", was, now);
  }
  for (const [key, was] of pristine.entries) {
    if (!current.entries.has(key)) push(key, "deleted", was, undefined);
  }
  // Directories that were only added or removed as containers say nothing beyond their files.
  const parents = new Set<string>();
  for (const c of out) {
    const segs = c.path.split("/");
    for (let i = 1; i < segs.length; i++) parents.add(segs.slice(0, i).join("/"));
  }
  const kept = out.filter((c) => !(c.type === "dir" && (c.status === "added" || c.status === "deleted") && parents.has(c.path)));
  return kept.sort((a, b) => Buffer.compare(a.name, b.name));
}

/** Whether the content looks binary (a NUL in the first 8000 bytes, as git decides). */
export function isBinary(content: Buffer | undefined): boolean {
  return !!content && content.subarray(0, 8000).includes(0);
}

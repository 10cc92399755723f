// The judge: the captured change applied to a fresh copy of the pristine fixture (tests
// restored, caches and metadata not carried), the tests run there with the harness's own
// result collectors, and the verdict decided from the exit code, the expected tests and the
// tampering findings. Nothing the agent left in its workspace is run or trusted.
import { createHash } from "node:crypto";
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, realpath, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Fixture } from "../fixtures/types.ts";
import { writeJsonAtomic } from "../evidence/files.ts";
import { copyFixtureTree, ensureRealParents, type TestRunOutcome, type TestIsolation } from "../workspace/workspace.ts";
import type { ChangeEntry } from "./change.ts";
import { isBinary } from "./change.ts";
import { runCollected, usesHarborView } from "./collectors.ts";
import type { ExpectedTests } from "./expected.ts";
import { buildPatch, inPatch } from "./git-patch.ts";
import { countAgainstExpected, type TestCount } from "./results.ts";
import { findTampering, type Finding } from "./tampering.ts";
import { decideVerdict, type JudgeVerdict } from "./verdict.ts";
import type { VerifierOutcome } from "./harbor/verifier.ts";
import { harborLogsAgentDir } from "../fixtures/harbor/scratch.ts";
import { suspectSpecialCasing, testLiterals } from "./special-casing.ts";
import { heldOutFiles, heldOutPredicate, visibleTestTexts } from "./held-out.ts";

export interface JudgeInput {
  fixture: Fixture;
  changes: ChangeEntry[];
  captureError: string | null;
  /** Findings made before the judge (the workspace's repository). */
  priorFindings: Finding[];
  notes: string[];
  expected: ExpectedTests;
  /** Where the bundle's files go: workspace.patch, changed-files.json, changes.json, tests/ (and logs/verifier/ for a Harbor task). */
  outDir: string;
  /** A Harbor task's /logs/agent from the agent's run (read-only for the verifier). */
  logsAgent?: string;
  isolation?: TestIsolation;
  signal?: AbortSignal;
}

export interface Judgement {
  verdict: JudgeVerdict;
  findings: Finding[];
  /** Findings that never decide the verdict (suspected special-casing). */
  observations: Finding[];
  count: TestCount | null;
  tests: TestRunOutcome | null;
  patch: { bytes: number; sha256: string };
  changedFiles: string[];
  /** Changes the judge did not apply, and why. */
  notCarried: { path: string; why: string }[];
  notes: string[];
  /** A Harbor verifier's outcome (reward, CTRF, missing commands); null otherwise. */
  harbor: VerifierOutcome | null;
  /** What the report says of a Harbor task (report.judge.harbor). */
  harborSummary?: HarborSummary;
}

export interface HarborSummary {
  workdir: string;
  view: boolean;
  reward: number | null;
  reward_source: "reward.json" | "reward.txt" | "exit code";
  rewards: Record<string, number>;
  reward_problem: string | null;
  ctrf_tests: number | null;
  missing_commands: { command: string; run_line: number | null; run: string | null }[];
}

/** Pure: report.judge.harbor. Non-finite rewards (Python's inf/nan) are not JSON: kept as null. */
export function harborSummary(fixture: Fixture, view: boolean, h: VerifierOutcome | null): HarborSummary | undefined {
  if (!fixture.harbor) return undefined;
  const finite = (v: number | null) => (v !== null && Number.isFinite(v) ? v : null);
  const rewards = Object.fromEntries(Object.entries(h?.reward.rewards ?? {}).filter(([, v]) => Number.isFinite(v)));
  return {
    workdir: fixture.harbor.workdir,
    view,
    reward: finite(h?.reward.value ?? null),
    reward_source: h?.reward.source ?? "exit code",
    rewards,
    reward_problem: h?.reward.problem ?? null,
    ctrf_tests: h?.ctrf ? h.ctrf.tests.length : null,
    missing_commands: (h?.missing ?? []).map((m) => ({ command: m.command, run_line: m.run?.line ?? null, run: m.run?.text.slice(0, 300) ?? null })),
  };
}

export async function judge(input: JudgeInput): Promise<Judgement> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), "cto-harness-judge-"));
  try {
    const tree = path.join(scratch, "tree");
    await copyFixtureTree(input.fixture, tree, "judge", { harborView: usesHarborView(input.fixture, input.isolation) });
    await loadPristineContent(tree, input.changes);
    const findings = [...input.priorFindings, ...findTampering({ changes: input.changes, testsTarget: input.fixture.testsTarget, pristineTopLevel: await topLevelNames(tree), testsHidden: input.fixture.testsHidden })];
    const observations = suspectSpecialCasing(input.changes, testLiterals(await visibleTestTexts(input.fixture), pristineCode(input.changes)));
    const isHeldOut = heldOutPredicate(await heldOutFiles(input.fixture));
    const patch = await writeChangeRecords(input.outDir, input.changes);
    let tests: TestRunOutcome | null = null;
    let count: TestCount | null = null;
    let harbor: VerifierOutcome | null = null;
    let resultsFrom: "collectors" | "ctrf" = "collectors";
    if (input.captureError === null) {
      await applyCarried(tree, input.changes);
      const run = await runCollected(input.fixture, tree, {
        stdoutFile: path.join(input.outDir, "tests", "stdout.log"),
        stderrFile: path.join(input.outDir, "tests", "stderr.log"),
        signal: input.signal,
        isolation: input.isolation,
        harbor: { logsAgent: input.logsAgent ?? (await existingDir(harborLogsAgentDir(input.outDir))), keepLogsIn: path.join(input.outDir, "logs", "verifier") },
      });
      tests = run.tests;
      harbor = run.harbor ?? null;
      resultsFrom = run.collected.source;
      count = countAgainstExpected(run.collected, input.expected.tests, { isHeldOut, contradicting: input.expected.contradicting });
      for (const t of run.collected.tampering) findings.push({ rule: "test-framework-patch", file: null, line: null, detail: t.what });
      if (run.collected.unreadable > 0) {
        findings.push({ rule: "test-framework-patch", file: null, line: null, detail: `${run.collected.unreadable} line(s) in the judge's results file were not written by its collectors (forged results)` });
      }
      findings.push(...(await physicalSymlinkEscapes(tree, input.changes)));
    }
    const verdict = decideVerdict({ captureError: input.captureError, findings, exitCode: tests?.exitCode ?? null, timedOut: tests?.timedOut ?? false, count, reward: tests?.reward });
    const notes = [...input.notes];
    if (input.fixture.harbor && !usesHarborView(input.fixture, input.isolation)) notes.push("Harbor task judged without the sandbox (--isolation none): no /app, /tests or /logs view; the tests ran inside the tree");
    if (harbor?.reward.problem) notes.push(`reward: ${harbor.reward.problem}`);
    if (harbor?.ctrf?.problem) notes.push(`ctrf: ${harbor.ctrf.problem}`);
    if (resultsFrom === "ctrf") notes.push("the test results are the CTRF report's only (no collector saw the tests run): unauthenticated, the code under test can write it");
    if (input.expected.note) notes.push(`test count not verified: ${input.expected.note}`);
    const notCarried = input.changes.filter((c) => !c.carried).map((c) => ({ path: c.path, why: c.whyNotCarried ?? "" }));
    return { verdict, findings, observations, count, tests, patch, changedFiles: input.changes.map((c) => c.path), notCarried, notes, harbor, harborSummary: harborSummary(input.fixture, usesHarborView(input.fixture, input.isolation), harbor) };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function existingDir(p: string): Promise<string | undefined> {
  return (await lstat(p).catch(() => null))?.isDirectory() ? p : undefined;
}

function bufPath(root: string, name: Buffer): Buffer {
  return Buffer.concat([Buffer.from(root), Buffer.from("/"), name]);
}

/** The pristine side of modified and deleted files, read from the fresh copy (it is the pristine tree). */
async function loadPristineContent(tree: string, changes: ChangeEntry[]): Promise<void> {
  for (const c of changes) {
    if (c.before?.type === "file" && !c.before.content) c.before.content = await readFile(bufPath(tree, c.name)).catch(() => Buffer.alloc(0));
  }
}

/** The pristine text of the files the change touches: a literal already there is not the agent's. */
function pristineCode(changes: ChangeEntry[]): string {
  return changes.filter((c) => c.before?.type === "file").map((c) => c.before!.content?.toString("utf8") ?? "").join("\n");
}

async function topLevelNames(tree: string): Promise<Set<string>> {
  return new Set(await readdir(tree));
}

/** workspace.patch, changed-files.json (escaped paths) and changes.json (one entry per change). */
async function writeChangeRecords(outDir: string, changes: ChangeEntry[]): Promise<{ bytes: number; sha256: string }> {
  const patch = await buildPatch(changes);
  await writeFile(path.join(outDir, "workspace.patch"), patch);
  await writeJsonAtomic(path.join(outDir, "changed-files.json"), changes.map((c) => c.path));
  await writeJsonAtomic(
    path.join(outDir, "changes.json"),
    changes.map((c) => ({
      path: c.path,
      status: c.status,
      type: c.type,
      sha256: c.after?.sha256 ?? null,
      bytes: c.after?.bytes ?? 0,
      mode: c.after ? `0${c.after.mode.toString(8)}` : null,
      binary: isBinary(c.after?.content),
      in_patch: inPatch(c),
      carried: c.carried,
      why_not_carried: c.whyNotCarried,
    })),
  );
  return { bytes: patch.length, sha256: createHash("sha256").update(patch).digest("hex") };
}

/** Symlinks that leave the tree once resolved by the kernel (through other links): lexical checks miss chains. */
async function physicalSymlinkEscapes(tree: string, changes: ChangeEntry[]): Promise<Finding[]> {
  const root = await realpath(tree);
  const out: Finding[] = [];
  for (const c of changes) {
    if (!c.carried || c.after?.type !== "symlink") continue;
    const resolved = await realpath(bufPath(tree, c.name)).catch(() => null);
    if (resolved !== null && resolved !== root && !resolved.startsWith(`${root}/`)) {
      out.push({ rule: "symlink-escape", file: c.path, line: null, detail: "a symlink that resolves outside the tree (through other links)" });
    }
  }
  return out;
}

/** Applies the carried changes to the fresh tree, in path order (a parent before its children). */
async function applyCarried(tree: string, changes: ChangeEntry[]): Promise<void> {
  for (const c of changes) {
    if (!c.carried) continue;
    const target = bufPath(tree, c.name);
    if (c.status === "deleted") {
      await rm(target, { recursive: true, force: true }).catch(() => {});
      continue;
    }
    const now = c.after!;
    await ensureRealParents(tree, c.name);
    if (c.status === "mode-changed") {
      await chmod(target, now.mode);
      continue;
    }
    if (now.type === "dir") {
      const st = await lstat(target).catch(() => null);
      if (st && !st.isDirectory()) await rm(target, { force: true });
      await mkdir(target, { recursive: true, mode: now.mode });
      continue;
    }
    await rm(target, { recursive: true, force: true });
    if (now.type === "symlink") await symlink(now.target!, target);
    else {
      await writeFile(target, now.content ?? Buffer.alloc(0), { mode: now.mode });
      await chmod(target, now.mode);
    }
  }
}

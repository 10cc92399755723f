// The `case` engine: the user's own agent binary (CTO_HARNESS_CASE_BIN), run in the
// workspace with the DESIGN §7 environment, its result taken by the case-result/1 protocol.
import { accessSync, realpathSync, statSync } from "node:fs";
import { constants } from "node:fs";
import { copyFile, lstat, mkdir, open, readlink, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { decideCaseResult, type PiStreamSummary } from "./case-protocol.ts";
import { createPiEventAccumulator, parsePiLine } from "./pi-events.ts";
import { piEventToTrajectory } from "../trajectory/from-pi.ts";
import { trajectoryPath } from "../trajectory/paths.ts";
import { createTrajectoryWriter } from "../trajectory/writer.ts";
import { outcomeFrom, spawnAgent } from "./spawn.ts";
import { type Engine, type EngineContext, type EngineOutcome, NO_RESULT, notStarted } from "./types.ts";

export const CASE_BIN_VAR = "CTO_HARNESS_CASE_BIN";
/** Extra `:`-separated read-only paths the Case agent needs inside the sandbox (its install). */
export const CASE_RO_PATHS_VAR = "CTO_HARNESS_CASE_RO_PATHS";
const CASE_RESULT_PREFIX = "CASE_RESULT ";

/** Largest result file read; a result is a few hundred bytes. */
const MAX_RESULT_BYTES = 1 << 20;

/** What a directory entry is, in words for a marker. Pure. */
export function describeEntryType(st: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (st.isFile()) return "a regular file";
  if (st.isDirectory()) return "a directory";
  if (st.isSymbolicLink()) return "a symbolic link";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isSocket()) return "a Unix socket";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  return "an entry of unknown type";
}

/**
 * Reads the agent's result file without trusting it: never follows a symlink (it could
 * point at a host file), never blocks on a FIFO, reads at most MAX_RESULT_BYTES. Whatever
 * arrived instead of a regular file (a directory, a FIFO, a socket, a device, a link) is
 * `refused` with what it was: the agent's mistake, never a harness error.
 */
export async function readResultFile(
  path: string,
): Promise<{ kind: "absent" } | { kind: "ok"; text: string } | { kind: "refused"; why: string; arrived: string }> {
  let seen;
  try {
    seen = await lstat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { kind: "absent" };
    return { kind: "refused", why: `cannot examine it (${code ?? "error"})`, arrived: "an entry that cannot be examined" };
  }
  if (seen.isSymbolicLink()) {
    const target = await readlink(path).catch(() => "(unreadable target)");
    return { kind: "refused", why: `it is a symbolic link to ${target} (never followed)`, arrived: `a symbolic link to ${target}` };
  }
  if (!seen.isFile()) {
    const what = describeEntryType(seen);
    return { kind: "refused", why: `it is ${what}, not a regular file`, arrived: what };
  }
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Swapped between lstat and open (the agent is gone, but be exact): say what it is now.
    if (code === "ENOENT") return { kind: "absent" };
    if (code === "ELOOP") return { kind: "refused", why: "it is a symbolic link (never followed)", arrived: "a symbolic link" };
    return { kind: "refused", why: `cannot open it (${code ?? "error"})`, arrived: "a regular file that cannot be opened" };
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) {
      const what = describeEntryType(st);
      return { kind: "refused", why: `it is ${what}, not a regular file`, arrived: what };
    }
    if (st.size > MAX_RESULT_BYTES) return { kind: "refused", why: `it is ${st.size} bytes (at most ${MAX_RESULT_BYTES})`, arrived: `a regular file of ${st.size} bytes` };
    const buf = Buffer.alloc(st.size);
    const { bytesRead } = await handle.read(buf, 0, st.size, 0);
    return { kind: "ok", text: buf.subarray(0, bytesRead).toString("utf8") };
  } finally {
    await handle.close();
  }
}

/**
 * Keeps only a description of a refused result file. The refused entry is removed (a link to
 * a host file, a FIFO, a device must not stay in the bundle; a directory may hold any of
 * those); the note goes to backend/ (harness-owned), never into agent-io/, where the agent
 * could have planted a symlink for us to write through. Never throws: what the agent left
 * is not a harness error.
 */
export async function disposeRefusedResult(resultFile: string, backendDir: string, arrived: string): Promise<void> {
  let removed = "it has been removed";
  try {
    await rm(resultFile, { recursive: true, force: true });
  } catch (e) {
    removed = `it could not be removed (${(e as NodeJS.ErrnoException).code ?? "error"})`;
  }
  const note = `the agent's result file ($CTO_HARNESS_RESULT_FILE) was ${arrived}; it was not read and ${removed}\n`;
  await writeFile(join(backendDir, "result-refused.txt"), note);
  // The earlier place of this note, kept for readers of older bundles: created exclusively
  // (O_CREAT|O_EXCL never follows a link the agent planted there); skipped if anything is in the way.
  await writeFile(`${resultFile}.refused.txt`, note, { flag: "wx" }).catch(() => {});
}

/** Why CTO_HARNESS_CASE_BIN cannot be started, or null (checked as a gate before any work). */
export function caseBinProblem(env: NodeJS.ProcessEnv): string | null {
  const raw = env[CASE_BIN_VAR]?.trim();
  if (!raw) return `${CASE_BIN_VAR} is not set: set it to the Case agent's executable`;
  const bin = resolve(raw);
  try {
    const st = statSync(bin);
    if (!st.isFile()) return `${CASE_BIN_VAR} points at ${bin}, which is not a file`;
    accessSync(bin, constants.X_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return `${CASE_BIN_VAR} points at ${bin}, which does not exist`;
    if (code === "EACCES") return `${CASE_BIN_VAR} points at ${bin}, which is not executable (chmod +x)`;
    return `${CASE_BIN_VAR} points at ${bin}, which cannot be used (${code ?? String(e)})`;
  }
  return null;
}

export const caseEngine: Engine = {
  name: "case",
  usesModel: true,
  precheck: caseBinProblem,
  async run(ctx: EngineContext): Promise<EngineOutcome> {
    const t0 = Date.now();
    const problem = caseBinProblem(ctx.env);
    if (problem) {
      return notStarted(problem);
    }
    // The agent runs in the workspace: a relative path means relative to where cto-harness was started.
    const bin = resolve(ctx.env[CASE_BIN_VAR]!.trim());
    const io = join(ctx.runDir, "agent-io");
    await mkdir(io, { recursive: true });
    const resultFile = join(io, "result.json");
    await copyFile(ctx.taskFile, join(io, "task.json"));
    let caseResultLine: string | null = null;
    // Case is Pi-based: a Pi --mode json stream on stdout is parsed as it arrives (memory flat)
    // and mapped into the trajectory.
    const piEvents = createPiEventAccumulator();
    const trajectory = createTrajectoryWriter(trajectoryPath(ctx.runDir), { engine: "case" });
    const roBinds = [dirname(realpathSync(bin))];
    for (const p of (ctx.env[CASE_RO_PATHS_VAR] ?? "").split(":")) if (p.trim()) roBinds.push(p.trim());
    const proc = await spawnAgent(ctx, {
      command: bin,
      args: [],
      env: {
        CTO_HARNESS_TASK_FILE: join(io, "task.json"),
        CTO_HARNESS_RESULT_FILE: resultFile,
        CTO_HARNESS_WORKSPACE: ctx.workspace,
      },
      roBinds,
      onStdoutLine: (line) => {
        if (line.startsWith(CASE_RESULT_PREFIX)) {
          caseResultLine = line.slice(CASE_RESULT_PREFIX.length);
          return;
        }
        if (!line.startsWith("{") || line.includes('"type":"message_update"')) return;
        const ev = parsePiLine(line);
        if (ev === null) return;
        piEvents.pushEvent(ev);
        for (const t of piEventToTrajectory(ev)) trajectory.write(t);
      },
    }).finally(() => trajectory.close());
    const read = await readResultFile(resultFile);
    // Never leave a link to a host file (or a FIFO, a device, a directory of them) in the bundle: keep only what it was.
    if (read.kind === "refused") await disposeRefusedResult(resultFile, ctx.backendDir, read.arrived);
    const resultText = read.kind === "ok" ? read.text : null;
    if (read.kind === "ok") await writeFile(join(ctx.backendDir, "result.json"), read.text);
    const pi = piEvents.summary();
    const piSummary: PiStreamSummary | null = pi.found
      ? { found: true, finalText: pi.finalText, stopReason: pi.stopReason, errorMessage: pi.errorMessage, finalReasoningOnly: pi.finalReasoningOnly }
      : null;
    const result = proc.started
      ? decideCaseResult({
          resultFile: resultText,
          resultFileRefused: read.kind === "refused" ? read.why : null,
          resultFilePath: "$CTO_HARNESS_RESULT_FILE",
          stdoutFirstLines: proc.stdout.firstLines,
          stdoutLastLines: proc.stdout.lastLines,
          stdoutBytes: proc.stdout.bytes,
          caseResultLine,
          pi: piSummary,
          exitCode: proc.exitCode,
        })
      : NO_RESULT;
    return outcomeFrom(proc, t0, result);
  },
};

// The `case` engine: the user's own agent binary (CTO_HARNESS_CASE_BIN), run in the
// workspace with the DESIGN §7 environment, its result taken by the case-result/1 protocol.
import { existsSync, realpathSync } from "node:fs";
import { copyFile, mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { decideCaseResult, type PiStreamSummary } from "./case-protocol.ts";
import { createPiEventAccumulator, parsePiLine } from "./pi-events.ts";
import { piEventToTrajectory } from "../trajectory/from-pi.ts";
import { trajectoryPath } from "../trajectory/paths.ts";
import { createTrajectoryWriter } from "../trajectory/writer.ts";
import { spawnAgent } from "./spawn.ts";
import type { Engine, EngineContext, EngineOutcome } from "./types.ts";

export const CASE_BIN_VAR = "CTO_HARNESS_CASE_BIN";
/** Extra `:`-separated read-only paths the Case agent needs inside the sandbox (its install). */
export const CASE_RO_PATHS_VAR = "CTO_HARNESS_CASE_RO_PATHS";
const CASE_RESULT_PREFIX = "CASE_RESULT ";

export const caseEngine: Engine = {
  name: "case",
  usesModel: true,
  async run(ctx: EngineContext): Promise<EngineOutcome> {
    const t0 = Date.now();
    const bin = ctx.env[CASE_BIN_VAR]?.trim();
    if (!bin || !existsSync(bin)) {
      return {
        started: false,
        exitCode: null,
        timedOut: false,
        durationMs: 0,
        startError: bin ? `${CASE_BIN_VAR} points at a file that does not exist` : `${CASE_BIN_VAR} is not set`,
        result: { protocolValid: null, source: null, status: null, summary: null },
      };
    }
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
    let resultText: string | null = null;
    if (existsSync(resultFile)) {
      resultText = await readFile(resultFile, "utf8");
      await copyFile(resultFile, join(ctx.backendDir, "result.json"));
    }
    const pi = piEvents.summary();
    const piSummary: PiStreamSummary | null = pi.found
      ? { found: true, finalText: pi.finalText, stopReason: pi.stopReason, errorMessage: pi.errorMessage }
      : null;
    const result = proc.started
      ? decideCaseResult({
          resultFile: resultText,
          resultFilePath: "$CTO_HARNESS_RESULT_FILE",
          stdoutFirstLines: proc.stdout.firstLines,
          stdoutLastLines: proc.stdout.lastLines,
          stdoutBytes: proc.stdout.bytes,
          caseResultLine,
          pi: piSummary,
          exitCode: proc.exitCode,
        })
      : { protocolValid: null, source: null, status: null, summary: null };
    return {
      started: proc.started,
      startError: proc.startError,
      sandboxUnavailable: proc.sandboxUnavailable,
      exitCode: proc.exitCode,
      timedOut: proc.timedOut,
      durationMs: Date.now() - t0,
      result,
    };
  },
};

// Stage secret-scan (finalisation; runs on every path): every artifact, redacted in place,
// before the report is composed. The agent's process findings (argv/environ) join the file findings.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { sha256File } from "../../evidence/files.ts";
import { writeMarker } from "../../evidence/markers.ts";
import { MARKERS } from "../../evidence/report.ts";
import { renderLeakMarker } from "../../secrets/report.ts";
import { scanRunDir, type ScanResult } from "../../secrets/scan.ts";
import type { RunContext, RunState, StageUpdate } from "../context.ts";

function makeReadable(runDir: string): void {
  spawnSync("chmod", ["-R", "u+rwX", runDir], { stdio: "ignore" });
}

/**
 * The harness owns every file here; an agent's chmod must not hide one from the scan. Making
 * everything readable costs ~10-30 ms on a loaded machine, so it is done first only when it is
 * likely needed (an agent had the run's directories — agent-home/agent-io exist only then — or
 * the capture saw an entry whose owner bits were taken away), and otherwise only when the
 * scan named something it could not read; then the scan is repeated.
 */
async function scanReadable(ctx: RunContext, state: RunState): Promise<ScanResult> {
  const agentHadDirs = existsSync(join(ctx.runDir, "agent-home")) || existsSync(join(ctx.runDir, "agent-io"));
  const likely = agentHadDirs || state.ownerBitsTaken;
  if (likely) makeReadable(ctx.runDir);
  const scan = await scanRunDir(ctx.runDir, [...state.secrets], { redact: true });
  if (scan.errors.length === 0 || likely) return scan;
  makeReadable(ctx.runDir);
  return scanRunDir(ctx.runDir, [...state.secrets], { redact: true });
}

export async function scanForSecrets(ctx: RunContext, state: RunState): Promise<StageUpdate> {
  const started = Date.now();
  const scan = await scanReadable(ctx, state);
  const scanMs = Date.now() - started;
  const findings = [...scan.findings, ...state.procFindings.map((f) => ({ file: `process ${f.pid} ${f.where}`, form: f.form }))];
  const findingFiles = [...new Set(findings.map((f) => f.file))].sort();
  ctx.trace.emit("secret_scan_finished", { files: scan.files, findings: findings.length, finding_files: findingFiles, errors: scan.errors.length });
  const markers: string[] = [];
  if (findings.length > 0) {
    await writeMarker(ctx.backendDir, MARKERS.secretLeakDetected, renderLeakMarker(findings));
    markers.push(`backend/${MARKERS.secretLeakDetected}`);
  }
  // Redaction may have changed the patch and the changed-file list: report what is on disk.
  const patch = { path: "workspace.patch", ...(await sha256File(join(ctx.runDir, "workspace.patch"))) };
  const listed = join(ctx.runDir, "changed-files.json");
  const changedFiles = existsSync(listed) ? (JSON.parse(await readFile(listed, "utf8")) as string[]) : state.changedFiles;
  return { scan: { files: scan.files, findings, errors: scan.errors.length }, patch, changedFiles, markers, timings: { scan_ms: scanMs } };
}

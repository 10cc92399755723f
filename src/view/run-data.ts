// Everything the run page shows, read from one bundle without writing a byte. `verify` is
// computed now, with the same code as `cto-harness verify`, never taken from the bundle.
import { readRunEntry, type RunEntry } from "../catalog/catalog.ts";
import { listFilesInside, readJsonInside, readJsonlInside, readTextInside, resolveInside, type ReadText } from "../catalog/safe-read.ts";
import { verifyBundle, type VerifyResult } from "../evidence/verify.ts";
import { secretValuesInEnv } from "../config/providers.ts";

/** Logs and patches can be large; the page shows this much of each, and says when it cut. */
const TEXT_CAP = 256 * 1024;

export interface RunData {
  entry: RunEntry;
  task: Record<string, unknown> | null;
  trace: Record<string, unknown>[];
  probe: Record<string, unknown> | null;
  requests: Record<string, unknown>[];
  trajectory: Record<string, unknown>[];
  trajectoryTruncated: boolean;
  patch: ReadText | null;
  changes: Record<string, unknown>[] | null;
  tests: { stdout: ReadText | null; stderr: ReadText | null; result: Record<string, unknown> | null };
  agentLogs: { stdout: ReadText | null; stderr: ReadText | null };
  markers: { name: string; text: ReadText | null }[];
  baseline: RunEntry | null;
  verify: VerifyResult | { error: string };
  /** The bundle has no report.json yet: a run still in progress (or killed). */
  inProgress: boolean;
}

const obj = (v: unknown) => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null);

/** backend/*.txt other than the logs: the marker files (one per blocking or failing cause). */
async function readMarkers(root: string, address: string[]): Promise<RunData["markers"]> {
  const names = (await listFilesInside(root, [...address, "backend"])).filter((n) => n.endsWith(".txt"));
  return Promise.all(names.map(async (name) => ({ name: `backend/${name}`, text: await readTextInside(root, [...address, "backend", name], 64 * 1024) })));
}

async function liveVerify(root: string, address: string[]): Promise<RunData["verify"]> {
  try {
    const dir = await resolveInside(root, address, "dir");
    return await verifyBundle(dir, { secrets: secretValuesInEnv(process.env) });
  } catch (e) {
    return { error: (e as Error).message };
  }
}

export async function readRunData(root: string, address: string[]): Promise<RunData> {
  const entry = await readRunEntry(root, address);
  const at = (...p: string[]) => [...address, ...p];
  const [task, trace, probe, requests, trajectory, patch, changes] = await Promise.all([
    readJsonInside(root, at("task.json")),
    readJsonlInside(root, at("trace.jsonl")),
    readJsonInside(root, at("probe.json")),
    readJsonlInside(root, at("backend", "model-requests.jsonl")),
    readJsonlInside(root, at("trajectory.jsonl"), 4 * 1024 * 1024),
    readTextInside(root, at("workspace.patch"), TEXT_CAP),
    readJsonInside(root, at("changes.json")),
  ]);
  const hasBaseline = address[address.length - 1] !== "baseline" && (await readTextInside(root, at("baseline", "report.json"), 1)) !== null;
  return {
    entry,
    task: obj(task),
    trace: trace.rows,
    probe: obj(probe),
    requests: requests.rows,
    trajectory: trajectory.rows,
    trajectoryTruncated: trajectory.truncated,
    patch,
    changes: Array.isArray(changes) ? changes.filter((c) => obj(c)).map((c) => c as Record<string, unknown>) : null,
    tests: {
      stdout: await readTextInside(root, at("tests", "stdout.log"), TEXT_CAP),
      stderr: await readTextInside(root, at("tests", "stderr.log"), TEXT_CAP),
      result: obj(await readJsonInside(root, at("tests", "result.json"))),
    },
    agentLogs: { stdout: await readTextInside(root, at("backend", "stdout.log"), TEXT_CAP), stderr: await readTextInside(root, at("backend", "stderr.log"), TEXT_CAP) },
    markers: await readMarkers(root, address),
    baseline: hasBaseline ? await readRunEntry(root, at("baseline")) : null,
    verify: entry.report ? await liveVerify(root, address) : { error: "no report.json yet: nothing to verify" },
    inProgress: entry.in_progress,
  };
}

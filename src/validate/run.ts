// Performing validator cases: each is a real small run through runOnce against the
// in-process simulator, with its own environment COPY (process.env is never mutated),
// stand-in Case agents written into the artifact directory, and its checks applied to the
// resulting bundle. Also the local set-up checks of `health`.
import { cp, mkdir, readFile, rm, writeFile, chmod } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import { runOnce } from "../run/lifecycle.ts";
import { verifyBundle } from "../evidence/verify.ts";
import { listFiles, writeJsonAtomic } from "../evidence/files.ts";
import { writeManifest } from "../evidence/manifest.ts";
import { BUILTIN_PROVIDERS } from "../config/providers.ts";
import { ADMISSION_FILE_VAR, PROTECTED_PATHS_VAR } from "../config/admission.ts";
import { registerSimulatedEndpoint, unregisterSimulatedEndpoint } from "../config/simulated-endpoints.ts";
import { startSimulator, type SimServer } from "../sim/server.ts";
import { BUILTIN_FIXTURES_DIR, listBuiltinFixtures } from "../fixtures/load.ts";
import { checkSandbox } from "../sandbox/bwrap.ts";
import { secretNeedles } from "../secrets/variants.ts";
import { CASE_BIN_VAR } from "../engines/case.ts";
import { HARNESS_VERSION } from "../version.ts";
import { MODEL, type Check, type RunFacts, type ValidatorCase } from "./cases.ts";
import { caseScriptText, type CaseScript } from "./scripts.ts";

export const VALIDATOR_FIXTURE = "r1-string-slugify";

export interface CaseResult {
  name: string;
  description: string;
  ok: boolean;
  checks: Check[];
  run_dir: string | null;
  status: string | null;
  failure_reason: string | null;
  duration_ms: number;
  error?: string;
}

export interface SetupCheck {
  name: string;
  ok: boolean;
  detail: string;
}

const URL_VAR = BUILTIN_PROVIDERS["qwen-local"]!.urlVar!;
const KEY_VAR = BUILTIN_PROVIDERS["qwen-local"]!.keyVar!;

async function writeAgents(dir: string): Promise<Record<CaseScript, string>> {
  await mkdir(dir, { recursive: true });
  // The scripts are CommonJS whatever package scope the artifact dir sits in.
  await writeFile(join(dir, "package.json"), JSON.stringify({ type: "commonjs" }) + "\n");
  const out = {} as Record<CaseScript, string>;
  for (const kind of ["well-behaved", "asks-for-fallback", "no-protocol", "pi-based"] as const) {
    const p = join(dir, kind);
    await writeFile(p, caseScriptText(kind, process.execPath));
    await chmod(p, 0o755);
    out[kind] = p;
  }
  return out;
}

async function writeAdmission(dir: string): Promise<{ admitted: string; other: string }> {
  const admitted = join(dir, "admission-admitted.yaml");
  const other = join(dir, "admission-other-model.yaml");
  await writeFile(admitted, `admitted:\n  - {provider: qwen-local, model: ${MODEL}}\n  - {provider: sim, model: ${MODEL}}\n`);
  await writeFile(other, `admitted:\n  - {provider: qwen-local, model: some-other-model}\n`);
  return { admitted, other };
}

async function scanFor(dir: string, values: string[]): Promise<string[]> {
  const needles = secretNeedles(values);
  const found: string[] = [];
  for (const rel of await listFiles(dir)) {
    let buf: Buffer;
    try {
      buf = await readFile(join(dir, rel));
    } catch {
      continue;
    }
    for (const n of needles) if (buf.includes(n.needle)) found.push(`${rel} (${n.form})`);
  }
  return found;
}

/** Runs one case; never throws (a harness exception is a failed case with its message). */
export async function runCase(c: ValidatorCase, artifactDir: string, baseEnv: NodeJS.ProcessEnv): Promise<CaseResult> {
  const t0 = Date.now();
  const caseDir = join(artifactDir, c.name);
  let sim: SimServer | null = null;
  try {
    await mkdir(caseDir, { recursive: true });
    const agents = await writeAgents(join(artifactDir, "agents"));
    const admission = await writeAdmission(artifactDir);
    // A copy of the caller's environment without any real endpoint: a validator must never
    // talk to (or persist) the user's endpoint.
    const env: NodeJS.ProcessEnv = { ...baseEnv };
    delete env[URL_VAR];
    delete env[KEY_VAR];
    delete env[PROTECTED_PATHS_VAR];
    env[ADMISSION_FILE_VAR] = c.admission === "admitted" ? admission.admitted : admission.other;
    if (c.caseScript) env[CASE_BIN_VAR] = agents[c.caseScript];

    let canary: string | null = null;
    if (c.scenario && c.provider === "qwen-local") {
      sim = await startSimulator({ scenario: c.scenario, models: [MODEL] });
      registerSimulatedEndpoint(sim.baseUrl);
      if (c.canary) {
        const u = new URL(sim.baseUrl);
        const tag = randomBytes(6).toString("hex");
        canary = `http://canary-user-${tag}:canary-pass-${tag}@${u.host}${u.pathname}?token=canarytok${tag}`;
        env[URL_VAR] = canary;
      } else env[URL_VAR] = sim.baseUrl;
    }

    let fixture = VALIDATOR_FIXTURE;
    let protectedMarker: string | null = null;
    if (c.protectedFixture) {
      const target = join(artifactDir, "protected-target", VALIDATOR_FIXTURE);
      await cp(join(BUILTIN_FIXTURES_DIR, VALIDATOR_FIXTURE), target, { recursive: true });
      protectedMarker = `protected-content-${randomBytes(8).toString("hex")}`;
      await writeFile(join(target, "PROTECTED-NOTE.txt"), `${protectedMarker}\n`);
      env[PROTECTED_PATHS_VAR] = join(artifactDir, "protected-target");
      fixture = target;
    }

    const { report, runDir } = await runOnce({
      fixture,
      engine: c.engine,
      provider: c.provider,
      model: MODEL,
      runsDir: caseDir,
      isolation: "none",
      budget: 1024,
      env,
      agentTimeoutSec: 60,
      sim: c.provider === "sim" ? { scenario: c.scenario ?? "solve" } : undefined,
    });

    const files = await listFiles(runDir);
    const markers: Record<string, string> = {};
    for (const f of files) if (/^backend\/[^/]+\.txt$/.test(f)) markers[f] = await readFile(join(runDir, f), "utf8");
    const traceTypes = existsSync(join(runDir, "trace.jsonl"))
      ? (await readFile(join(runDir, "trace.jsonl"), "utf8"))
          .split("\n")
          .filter(Boolean)
          .map((l) => {
            try {
              return String((JSON.parse(l) as { type?: unknown }).type);
            } catch {
              return "(unparsable)";
            }
          })
      : [];
    const v = await verifyBundle(runDir, canary ? { secrets: [canary] } : {});
    const facts: RunFacts = { report, files, markers, traceTypes, verify: { ok: v.ok, problems: v.problems } };
    if (canary) {
      facts.canaryFindings = await scanFor(runDir, [canary]);
      facts.canaryUsed = sim!.requests.some((r) => r.path.includes("chat/completions") && r.status === 200);
    }
    if (protectedMarker) {
      const hits: string[] = [];
      for (const rel of files) if ((await readFile(join(runDir, rel))).includes(protectedMarker)) hits.push(rel);
      facts.protectedContentFound = hits.length > 0;
    }
    if (c.dropBaseline) {
      // A forger's copy: baseline removed, report edited to match, manifest recomputed.
      const copy = join(caseDir, "without-baseline-copy");
      await cp(runDir, copy, { recursive: true });
      await rm(join(copy, "baseline"), { recursive: true, force: true });
      const forged = { ...report, baseline_comparison: null };
      await writeJsonAtomic(join(copy, "report.json"), forged);
      await rm(join(copy, "manifest.json"), { force: true });
      await writeManifest(copy);
      const vf = await verifyBundle(copy);
      facts.verifyWithoutBaseline = { ok: vf.ok, problems: vf.problems };
    }
    const checks = c.checks(facts);
    return {
      name: c.name,
      description: c.description,
      ok: checks.every((x) => x.ok),
      checks,
      run_dir: runDir,
      status: report.status,
      failure_reason: report.failure_reason,
      duration_ms: Date.now() - t0,
    };
  } catch (error) {
    return {
      name: c.name,
      description: c.description,
      ok: false,
      checks: [],
      run_dir: null,
      status: null,
      failure_reason: null,
      duration_ms: Date.now() - t0,
      error: (error as Error).message,
    };
  } finally {
    if (sim) {
      unregisterSimulatedEndpoint(sim.baseUrl);
      await sim.close();
    }
  }
}

/** The local set-up: bubblewrap present and working, git, Node >= 22, built-in fixtures load. */
export async function setupChecks(): Promise<SetupCheck[]> {
  const out: SetupCheck[] = [];
  const major = Number(process.versions.node.split(".")[0]);
  out.push({ name: "node", ok: major >= 22, detail: `Node ${process.versions.node}${major >= 22 ? "" : " (needs >= 22; run npm ci for the project's own Node)"}` });
  const git = spawnSync("git", ["--version"], { encoding: "utf8" });
  out.push({ name: "git", ok: git.status === 0, detail: git.status === 0 ? git.stdout.trim() : "git not found: install git (fixtures are prepared as git workspaces)" });
  const which = spawnSync("sh", ["-c", "command -v bwrap"], { encoding: "utf8" });
  const present = which.status === 0;
  out.push({ name: "bubblewrap present", ok: present, detail: present ? which.stdout.trim() : "bwrap not found: apt-get install bubblewrap (or run with --isolation none, recorded in the report)" });
  if (present) {
    const s = await checkSandbox();
    out.push({ name: "bubblewrap works", ok: s.ok, detail: s.ok ? "trial sandbox started" : `${s.reason}; ${s.advice}` });
  }
  try {
    const fixtures = await listBuiltinFixtures();
    out.push({ name: "fixtures load", ok: fixtures.length > 0, detail: `${fixtures.length} built-in fixture(s): ${fixtures.map((f) => f.id).join(", ")}` });
  } catch (error) {
    out.push({ name: "fixtures load", ok: false, detail: (error as Error).message });
  }
  return out;
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

export async function createArtifactDir(runsDir: string, prefix: "health" | "validate"): Promise<string> {
  await mkdir(runsDir, { recursive: true });
  const base = join(runsDir, `${prefix}-${stamp(new Date())}-${process.pid}`);
  for (let n = 0; ; n++) {
    const dir = n === 0 ? base : `${base}-${n}`;
    try {
      await mkdir(dir);
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || n > 1000) throw e;
    }
  }
}

export interface ValidationReport {
  schema: "cto-harness/health@1" | "cto-harness/validate@1";
  harness_version: string;
  created_at: string;
  artifact_dir: string;
  name?: string;
  ok: boolean;
  setup?: SetupCheck[];
  cases: CaseResult[];
}

export async function runCases(
  cases: ValidatorCase[],
  artifactDir: string,
  env: NodeJS.ProcessEnv,
  onDone?: (r: CaseResult) => void,
): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const c of cases) {
    const r = await runCase(c, artifactDir, env);
    results.push(r);
    onDone?.(r);
  }
  return results;
}

export async function writeReport(path: string, r: ValidationReport): Promise<void> {
  await writeJsonAtomic(path, r);
}

export { HARNESS_VERSION };

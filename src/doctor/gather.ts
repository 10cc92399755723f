// `cto-harness doctor`: gathering the facts (I/O). Every value read from the environment
// stays here: what leaves is whether a variable is set, what a check found, never a value.
import { execFile } from "node:child_process";
import { constants, existsSync, readFileSync } from "node:fs";
import { access, mkdtemp, rm, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { ADMISSION_FILE_VAR, AdmissionFileError, PROTECTED_PATHS_VAR, readAdmissionFile } from "../config/admission.ts";
import { ConfigError, loadProviderSpecs, resolveProvider } from "../config/providers.ts";
import { CASE_BIN_VAR, CASE_RO_PATHS_VAR, caseBinProblem } from "../engines/case.ts";
import { checkSandbox } from "../sandbox/bwrap.ts";
import { discoverServer } from "../provider/probe.ts";
import { detectPlatform } from "./fixes.ts";
import type { DoctorFacts } from "./checks.ts";
import { fileURLToPath } from "node:url";

const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Every variable cto-harness reads (README, Configuration), and which of them are secrets. */
export const CONFIG_VARIABLES: { name: string; secret: boolean }[] = [
  { name: "CTO_HARNESS_CASE_LOCAL_BASE_URL", secret: true },
  { name: "CTO_HARNESS_CASE_LOCAL_API_KEY", secret: true },
  { name: CASE_BIN_VAR, secret: false },
  { name: CASE_RO_PATHS_VAR, secret: false },
  { name: ADMISSION_FILE_VAR, secret: false },
  { name: "CTO_HARNESS_RUNS_DIR", secret: false },
  { name: PROTECTED_PATHS_VAR, secret: false },
  { name: "CTO_HARNESS_AGENT_MAX_TOKENS", secret: false },
  { name: "CTO_HARNESS_AGENT_CONTEXT_WINDOW", secret: false },
  { name: "CTO_HARNESS_BWRAP", secret: false },
  { name: "CTO_HARNESS_CACHE_DIR", secret: false },
];

/** The agents shipped with cto-harness, by the file each engine starts. */
export const AGENT_ENTRIES: { engine: string; file: string }[] = [
  { engine: "builtin", file: join(PROJECT_ROOT, "src/engines/builtin-agent/agent.ts") },
  { engine: "pi", file: join(PROJECT_ROOT, "node_modules/@mariozechner/pi-coding-agent/dist/cli.js") },
  { engine: "qwen-code", file: join(PROJECT_ROOT, "node_modules/@qwen-code/qwen-code/cli.js") },
];

function versionOf(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string | null> {
  return new Promise((done) => {
    execFile(cmd, args, { env: { PATH: env.PATH ?? "/usr/bin:/bin" }, timeout: 10_000 }, (error, stdout, stderr) => {
      if (error) return done(null);
      done((String(stdout).trim() || String(stderr).trim()).split("\n")[0]!.slice(0, 200) || cmd);
    });
  });
}

/** Whether the runs directory (or, when it does not exist yet, its nearest existing parent) takes a new entry. */
async function runsDirWritable(dir: string): Promise<{ writable: boolean; problem: string | null }> {
  let probe = resolve(dir);
  for (;;) {
    const st = await stat(probe).catch(() => null);
    if (st) {
      if (!st.isDirectory()) return { writable: false, problem: probe === resolve(dir) ? "it is not a directory" : "a parent of it is not a directory" };
      break;
    }
    const up = dirname(probe);
    if (up === probe) return { writable: false, problem: "no existing parent directory" };
    probe = up;
  }
  try {
    await access(probe, constants.W_OK | constants.X_OK);
    // access() can be wrong (read-only mounts, ACLs): make and remove a real entry.
    const t = await mkdtemp(join(probe, ".cto-harness-doctor-"));
    await rm(t, { recursive: true, force: true });
    return { writable: true, problem: null };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "error";
    return { writable: false, problem: `${probe === resolve(dir) ? "it" : "its parent"} refuses new entries (${code})` };
  }
}

function readOsRelease(): string | null {
  for (const p of ["/etc/os-release", "/usr/lib/os-release"]) {
    try {
      return readFileSync(p, "utf8");
    } catch {
      /* next */
    }
  }
  return null;
}

/** `text` with every occurrence of a variable's value replaced by `$NAME`. */
export function nameInsteadOf(text: string, value: string | undefined, name: string): string {
  return value && value.length > 0 ? text.split(value).join(`$${name}`) : text;
}

function caseBinProblemNamed(env: NodeJS.ProcessEnv, cwd: string): string | null {
  const problem = caseBinProblem(env);
  if (problem === null) return null;
  const raw = env[CASE_BIN_VAR]!.trim();
  return nameInsteadOf(nameInsteadOf(problem, resolve(cwd, raw), CASE_BIN_VAR), raw, CASE_BIN_VAR);
}

export interface GatherOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Timeout of the endpoint's GET /models. */
  endpointTimeoutMs?: number;
}

export async function gatherFacts(o: GatherOptions): Promise<DoctorFacts> {
  const env = o.env;
  const cwd = o.cwd ?? process.cwd();
  const runsDirRaw = env.CTO_HARNESS_RUNS_DIR?.trim();
  const [git, python3, pytest, sandbox, runs] = await Promise.all([
    versionOf("git", ["--version"], env),
    versionOf("python3", ["--version"], env),
    versionOf("python3", ["-m", "pytest", "--version"], env),
    checkSandbox(),
    runsDirWritable(resolve(cwd, runsDirRaw || "./harness-runs")),
  ]);

  let configError: string | null = null;
  let specs: ReturnType<typeof loadProviderSpecs>;
  try {
    specs = loadProviderSpecs(cwd);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    configError = e.message;
    specs = loadProviderSpecs(join(cwd, ".cto-harness-doctor-no-config"));
  }

  const variables = [...CONFIG_VARIABLES];
  for (const spec of Object.values(specs)) {
    for (const v of [spec.urlVar, spec.keyVar]) if (v && !variables.some((x) => x.name === v)) variables.push({ name: v, secret: true });
  }

  const admissionPath = env[ADMISSION_FILE_VAR]?.trim();
  let admission: DoctorFacts["admission"] = { set: false };
  if (admissionPath) {
    try {
      admission = { set: true, pairs: readAdmissionFile(resolve(cwd, admissionPath)).length, error: null };
    } catch (e) {
      if (!(e instanceof AdmissionFileError)) throw e;
      // The message starts with the path, the variable's value: name the variable instead.
      const msg = nameInsteadOf(nameInsteadOf(e.message, resolve(cwd, admissionPath), ADMISSION_FILE_VAR), admissionPath, ADMISSION_FILE_VAR);
      admission = { set: true, pairs: null, error: msg };
    }
  }

  const endpoints: DoctorFacts["endpoints"] = [];
  await Promise.all(
    Object.values(specs)
      .filter((s) => s.kind === "external" && s.urlVar && env[s.urlVar]?.trim())
      .map(async (spec) => {
        const r = resolveProvider(spec.name, env, cwd);
        const base = { provider: spec.name, urlVar: spec.urlVar!, reachable: null, status: null, models: null, simulated: false };
        if (!r.ok) return void endpoints.push({ ...base, valid: false });
        const facts = await discoverServer({ baseUrl: r.baseUrl!, apiKey: r.apiKey, model: "" }, { timeoutMs: o.endpointTimeoutMs ?? 5000 });
        endpoints.push({ ...base, valid: true, reachable: facts.reachable, status: facts.models_status, models: facts.models.length, simulated: facts.simulated });
      }),
  );
  endpoints.sort((a, b) => a.provider.localeCompare(b.provider));

  return {
    platform: detectPlatform(process.platform, readOsRelease()),
    node: { version: process.version, path: process.execPath },
    git: { version: git },
    python3: { version: python3 },
    pytest: { version: pytest },
    // The reason names the binary: when it came from CTO_HARNESS_BWRAP, name the variable instead.
    sandbox: sandbox.ok || !env.CTO_HARNESS_BWRAP ? sandbox : { ...sandbox, reason: nameInsteadOf(sandbox.reason, env.CTO_HARNESS_BWRAP, "CTO_HARNESS_BWRAP") },
    bwrapOverridden: Boolean(env.CTO_HARNESS_BWRAP),
    agents: AGENT_ENTRIES.map((a) => ({ engine: a.engine, present: existsSync(a.file) })),
    caseBin: env[CASE_BIN_VAR]?.trim() ? { set: true, problem: caseBinProblemNamed(env, cwd) } : { set: false },
    runsDir: { fromVariable: Boolean(runsDirRaw), ...runs },
    variables: variables.map((v) => ({ ...v, set: Boolean(env[v.name]?.trim()) })),
    configFile: { present: existsSync(join(cwd, "cto-harness.config.yaml")), error: configError },
    admission,
    endpoints,
  };
}

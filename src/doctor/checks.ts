// `cto-harness doctor`: the decisions, pure. Facts (gathered by gather.ts) go in; a list of
// checks comes out, each with whether a run needs it and the fix for the platform. Nothing
// here ever holds a configuration value: variables are named, their values are not seen.
import { allFixes, bwrapProblem, fixFor, PLATFORM_NAMES, type Missing, type Platform } from "./fixes.ts";

export interface DoctorFacts {
  platform: Platform;
  node: { version: string; path: string };
  git: { version: string | null };
  python3: { version: string | null };
  /** `python3 -m pytest --version`: Harbor tasks' verifiers run the machine's own pytest, offline (docs/fixtures.md). Absent: not gathered. */
  pytest?: { version: string | null };
  /** The same trial sandbox start a run makes (sandbox/bwrap.ts checkSandbox). */
  sandbox: { ok: true } | { ok: false; reason: string; advice: string };
  /** CTO_HARNESS_BWRAP is set (the binary is then that path, not `bwrap` on PATH). */
  bwrapOverridden: boolean;
  /** The agents shipped with cto-harness: their entry files exist. */
  agents: { engine: string; present: boolean }[];
  /** CTO_HARNESS_CASE_BIN: unset, or why it cannot be started (null: fine). */
  caseBin: { set: false } | { set: true; problem: string | null };
  runsDir: { fromVariable: boolean; writable: boolean; problem: string | null };
  /** Every configuration variable cto-harness reads, and whether it is set. */
  variables: { name: string; set: boolean; secret: boolean }[];
  /** cto-harness.config.yaml (in the working directory): absent, fine, or its error. */
  configFile: { present: boolean; error: string | null };
  admission: { set: false } | { set: true; pairs: number | null; error: string | null };
  /** One per external provider whose URL variable is set. */
  endpoints: { provider: string; urlVar: string; valid: boolean; reachable: boolean | null; status: number | null; models: number | null; simulated: boolean }[];
}

export type CheckLevel = "ok" | "fail" | "warn" | "info";

export interface DoctorCheck {
  name: string;
  /** ok; fail (a run needs it); warn (only some engines or fixtures need it); info (nothing to fix). */
  level: CheckLevel;
  detail: string;
  /** The fix for this platform (absent when nothing is to be fixed). */
  fix?: string;
  /** The fix on each supported platform (debian, fedora, arch, macos). */
  fixes?: Record<string, string>;
}

export interface DoctorReport {
  schema: "cto-harness/doctor@1";
  harness_version: string;
  platform: Platform;
  platform_name: string;
  /** False when something a run needs is missing (the command then exits 1). */
  ok: boolean;
  checks: DoctorCheck[];
}

function withFix(check: Omit<DoctorCheck, "fix" | "fixes">, what: Missing, platform: Platform): DoctorCheck {
  return { ...check, fix: fixFor(what, platform), fixes: allFixes(what) };
}

export const MIN_NODE_MAJOR = 22;

export function decideDoctor(f: DoctorFacts, harnessVersion: string): DoctorReport {
  const p = f.platform;
  const checks: DoctorCheck[] = [];
  const major = Number(f.node.version.replace(/^v/, "").split(".")[0]);
  checks.push(
    major >= MIN_NODE_MAJOR
      ? { name: "node", level: "ok", detail: `Node ${f.node.version} (${f.node.path})` }
      : withFix({ name: "node", level: "fail", detail: `Node ${f.node.version} is older than ${MIN_NODE_MAJOR} (Qwen Code and the TypeScript sources need >= ${MIN_NODE_MAJOR})` }, "node", p),
  );
  checks.push(
    f.git.version
      ? { name: "git", level: "ok", detail: f.git.version }
      : withFix({ name: "git", level: "fail", detail: "git not found on PATH: every workspace and every patch is made with git" }, "git", p),
  );
  checks.push(
    f.python3.version
      ? { name: "python3", level: "ok", detail: f.python3.version }
      : withFix({ name: "python3", level: "fail", detail: "python3 not found on PATH: Python fixtures (unittest) and their collectors cannot run" }, "python3", p),
  );
  if (f.pytest) {
    checks.push(
      f.pytest.version
        ? { name: "pytest", level: "ok", detail: f.pytest.version }
        : withFix({ name: "pytest", level: "warn", detail: "python3 has no pytest: Harbor tasks whose verifier runs pytest (uvx ... pytest) cannot be judged offline" }, "pytest", p),
    );
  }
  if (f.sandbox.ok) {
    checks.push({ name: "bubblewrap", level: "ok", detail: `a trial sandbox started (own user, PID and network namespaces)${f.bwrapOverridden ? " with CTO_HARNESS_BWRAP" : ""}` });
  } else {
    const what = bwrapProblem(f.sandbox.reason);
    checks.push(
      withFix(
        {
          name: "bubblewrap",
          level: "fail",
          detail:
            `${f.sandbox.reason}${f.bwrapOverridden ? " (CTO_HARNESS_BWRAP is set: that path is used instead of bwrap on PATH)" : ""}. ` +
            "`run` and `loop` are blocked (`sandbox unavailable`) unless given `--isolation none`; `demo` falls back to `isolation: none` and says so",
        },
        what,
        p,
      ),
    );
  }
  for (const a of f.agents) {
    const required = a.engine === "builtin";
    checks.push(
      a.present
        ? { name: `agent ${a.engine}`, level: "ok", detail: "installed" }
        : withFix({ name: `agent ${a.engine}`, level: required ? "fail" : "warn", detail: `the ${a.engine} engine's agent is not installed (node_modules)` }, "agents", p),
    );
  }
  if (!f.caseBin.set) checks.push({ name: "agent case", level: "info", detail: "CTO_HARNESS_CASE_BIN is not set (needed only for --engine case)" });
  else if (f.caseBin.problem === null) checks.push({ name: "agent case", level: "ok", detail: "CTO_HARNESS_CASE_BIN is an executable file" });
  else checks.push({ name: "agent case", level: "fail", detail: f.caseBin.problem, fix: "point CTO_HARNESS_CASE_BIN at your agent's executable (an absolute path; chmod +x)" });

  const runsWhere = f.runsDir.fromVariable ? "the runs directory (CTO_HARNESS_RUNS_DIR)" : "the runs directory (./harness-runs, the default)";
  checks.push(
    f.runsDir.writable
      ? { name: "runs directory", level: "ok", detail: `${runsWhere} is writable` }
      : withFix({ name: "runs directory", level: "fail", detail: `${runsWhere} is not writable: ${f.runsDir.problem ?? "unknown reason"}` }, "runs-dir", p),
  );

  const set = f.variables.filter((v) => v.set).map((v) => `${v.name}${v.secret ? " (secret)" : ""}`);
  const unset = f.variables.filter((v) => !v.set).map((v) => v.name);
  checks.push({ name: "configuration variables", level: "info", detail: `set: ${set.join(", ") || "(none)"}; not set: ${unset.join(", ") || "(none)"} (values are never shown)` });

  if (f.configFile.present) {
    checks.push(
      f.configFile.error === null
        ? { name: "cto-harness.config.yaml", level: "ok", detail: "parses" }
        : { name: "cto-harness.config.yaml", level: "fail", detail: f.configFile.error, fix: "fix the file at the place named (expected: providers: {NAME: {url_env: VAR, key_env: VAR}})" },
    );
  }

  if (!f.admission.set) {
    checks.push({ name: "admission file", level: "info", detail: "CTO_HARNESS_CASE_MODEL_ADMISSION_FILE is not set: only the simulator is admitted (a real endpoint needs the file)" });
  } else if (f.admission.error !== null) {
    checks.push({
      name: "admission file",
      level: "fail",
      detail: f.admission.error,
      fix: "fix the file at the line named; expected: admitted: [{provider: P, model: M}, ...] (YAML or JSON)",
    });
  } else {
    checks.push({ name: "admission file", level: "ok", detail: `parses: ${f.admission.pairs} admitted provider/model pair(s) (the simulator is admitted whatever it lists)` });
  }

  if (f.endpoints.length === 0) {
    checks.push({ name: "endpoint", level: "info", detail: "no endpoint configured (CTO_HARNESS_CASE_LOCAL_BASE_URL not set): the simulator (`--provider sim`, `demo`) needs none" });
  }
  for (const e of f.endpoints) {
    const name = `endpoint ${e.provider}`;
    if (!e.valid) {
      checks.push({ name, level: "fail", detail: `${e.urlVar} is set but is not an http(s) URL (its value is not shown)`, fix: `export ${e.urlVar}=http://HOST:PORT/v1 (the server's OpenAI-compatible base URL)` });
    } else if (!e.reachable) {
      checks.push({
        name,
        level: "fail",
        detail: `no answer from GET /models at ${e.urlVar} (connection refused, name not resolved or timed out; the URL is not shown)`,
        fix: `start the model server, or correct ${e.urlVar}; then \`cto-harness probe --provider ${e.provider}\``,
      });
    } else if (e.status !== null && (e.status < 200 || e.status >= 300)) {
      checks.push({
        name,
        level: "fail",
        detail: `GET /models answered HTTP ${e.status}${e.status === 401 || e.status === 403 ? " (the key is missing or wrong)" : ""}`,
        fix: e.status === 401 || e.status === 403 ? "set the provider's key variable (e.g. CTO_HARNESS_CASE_LOCAL_API_KEY) to the server's key" : `check the server; then \`cto-harness probe --provider ${e.provider}\``,
      });
    } else {
      checks.push({ name, level: "ok", detail: `reachable: GET /models answered HTTP ${e.status}, ${e.models ?? 0} model(s)${e.simulated ? " (cto-harness's own simulator)" : ""}; \`cto-harness probe\` checks its response shapes` });
    }
  }
  return {
    schema: "cto-harness/doctor@1",
    harness_version: harnessVersion,
    platform: p,
    platform_name: PLATFORM_NAMES[p],
    ok: checks.every((c) => c.level !== "fail"),
    checks,
  };
}

/** The human form (stderr). */
export function renderDoctor(r: DoctorReport): string {
  const mark: Record<CheckLevel, string> = { ok: "ok  ", fail: "FAIL", warn: "warn", info: "info" };
  const lines = [`cto-harness doctor (${r.platform_name})`];
  for (const c of r.checks) {
    lines.push(`${mark[c.level]} ${c.name}: ${c.detail}`);
    if (c.fix && c.level !== "ok") lines.push(`     fix: ${c.fix}`);
  }
  const fails = r.checks.filter((c) => c.level === "fail").length;
  const warns = r.checks.filter((c) => c.level === "warn").length;
  lines.push(r.ok ? `ready${warns ? ` (${warns} warning(s))` : ""}` : `NOT ready: ${fails} problem(s) a run needs fixed`);
  return lines.join("\n") + "\n";
}

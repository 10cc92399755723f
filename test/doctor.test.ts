// `cto-harness doctor`: the pure decisions (platform, fixes, checks) and the command as a user
// meets it, with canary values in every configuration variable: none may appear in its output.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideDoctor, renderDoctor, type DoctorFacts } from "../src/doctor/checks.ts";
import { allFixes, bwrapProblem, detectPlatform, fixFor } from "../src/doctor/fixes.ts";
import { classifyFailure } from "../src/sandbox/bwrap.ts";
import { startSimulator, type SimServer } from "../src/sim/server.ts";
import { canaryForms, tempDir } from "./helpers/run-env.ts";

const BIN = fileURLToPath(new URL("../bin/cto-harness", import.meta.url));
const PATH = `${dirname(process.execPath)}:${process.env.PATH}`;

function doctor(env: Record<string, string>, args: string[] = ["--json"], cwd?: string) {
  const r = spawnSync(BIN, ["doctor", ...args], { encoding: "utf8", env: { PATH, ...env }, timeout: 60_000, cwd });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Asynchronous: the simulator serving the endpoint check lives in this process. */
function doctorAsync(env: Record<string, string>, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(BIN, ["doctor", ...args], { env: { PATH, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

function goodFacts(): DoctorFacts {
  return {
    platform: "debian",
    node: { version: "v24.21.0", path: "/x/node" },
    git: { version: "git version 2.39.5" },
    python3: { version: "Python 3.11.2" },
    sandbox: { ok: true },
    bwrapOverridden: false,
    agents: [
      { engine: "builtin", present: true },
      { engine: "pi", present: true },
      { engine: "qwen-code", present: true },
    ],
    caseBin: { set: false },
    runsDir: { fromVariable: false, writable: true, problem: null },
    variables: [{ name: "CTO_HARNESS_CASE_LOCAL_BASE_URL", set: false, secret: true }],
    configFile: { present: false, error: null },
    admission: { set: false },
    endpoints: [],
  };
}

describe("doctor: platforms and fixes (pure)", () => {
  it("recognises the distribution families and macOS", () => {
    expect(detectPlatform("linux", 'ID=debian\nVERSION_ID="12"\n')).toBe("debian");
    expect(detectPlatform("linux", "ID=ubuntu\nID_LIKE=debian\n")).toBe("debian");
    expect(detectPlatform("linux", 'ID="fedora"\n')).toBe("fedora");
    expect(detectPlatform("linux", 'ID="rocky"\nID_LIKE="rhel centos fedora"\n')).toBe("fedora");
    expect(detectPlatform("linux", "ID=arch\n")).toBe("arch");
    expect(detectPlatform("linux", "ID=manjaro\nID_LIKE=arch\n")).toBe("arch");
    expect(detectPlatform("darwin", null)).toBe("macos");
    expect(detectPlatform("linux", "ID=alpine\n")).toBe("linux");
    expect(detectPlatform("linux", null)).toBe("linux");
  });

  it("gives each platform its own install command, and says plainly what cannot work on macOS", () => {
    expect(fixFor("bwrap-missing", "debian")).toBe("sudo apt-get install bubblewrap");
    expect(fixFor("bwrap-missing", "fedora")).toBe("sudo dnf install bubblewrap");
    expect(fixFor("bwrap-missing", "arch")).toBe("sudo pacman -S bubblewrap");
    expect(fixFor("bwrap-missing", "macos")).toMatch(/cannot work on macOS/);
    expect(fixFor("bwrap-missing", "macos")).toMatch(/--isolation none/);
    expect(fixFor("python3", "arch")).toBe("sudo pacman -S python");
    expect(fixFor("git", "macos")).toMatch(/xcode-select --install/);
    // An unrecognised Linux gets every distribution's command.
    const any = fixFor("bwrap-missing", "linux");
    for (const cmd of ["apt-get install bubblewrap", "dnf install bubblewrap", "pacman -S bubblewrap"]) expect(any).toContain(cmd);
    expect(fixFor("bwrap-userns", "debian")).toMatch(/apparmor_restrict_unprivileged_userns=0/);
    expect(fixFor("bwrap-userns", "fedora")).toMatch(/user\.max_user_namespaces/);
    expect(Object.keys(allFixes("git"))).toEqual(["debian", "fedora", "arch", "macos"]);
    expect(fixFor("node", "fedora")).toMatch(/npm ci/);
  });

  it("tells the bubblewrap problems apart from the sandbox check's own reasons", () => {
    expect(bwrapProblem(classifyFailure("bwrap", "spawn bwrap ENOENT").reason)).toBe("bwrap-missing");
    expect(bwrapProblem(classifyFailure("/x/bwrap", "spawn /x/bwrap EACCES").reason)).toBe("bwrap-exec");
    expect(bwrapProblem(classifyFailure("bwrap", "bwrap: No permissions to create new namespace").reason)).toBe("bwrap-userns");
    expect(bwrapProblem(classifyFailure("bwrap", "bwrap: something else").reason)).toBe("bwrap-other");
    // Docker's refusal reads "Permission denied" but is about namespaces, not the binary.
    expect(bwrapProblem(classifyFailure("bwrap", "bwrap: setting up uid map: Permission denied").reason)).toBe("bwrap-userns");
  });
});

describe("doctor: decisions (pure)", () => {
  it("a complete set-up is ready", () => {
    const r = decideDoctor(goodFacts(), "0.1.0");
    expect(r.ok).toBe(true);
    expect(r.checks.filter((c) => c.level === "fail")).toEqual([]);
    expect(renderDoctor(r)).toMatch(/\nready\n$/);
  });

  it("python3 without pytest is a warning (only Harbor pytest verifiers need it), with the platform's fix", () => {
    const f = { ...goodFacts(), pytest: { version: null } };
    const r = decideDoctor(f, "0.1.0");
    const c = r.checks.find((x) => x.name === "pytest");
    expect(c?.level).toBe("warn");
    expect(c?.fix).toMatch(/apt-get install python3-pytest/);
    expect(r.ok).toBe(true);
    expect(decideDoctor({ ...goodFacts(), pytest: { version: "pytest 8.3.5" } }, "0.1.0").checks.find((x) => x.name === "pytest")?.level).toBe("ok");
  });

  it("each missing piece a run needs fails, with the platform's fix", () => {
    const cases: [string, (f: DoctorFacts) => void, RegExp][] = [
      ["node", (f) => (f.node.version = "v20.19.0"), /npm ci/],
      ["git", (f) => (f.git.version = null), /apt-get install git/],
      ["python3", (f) => (f.python3.version = null), /apt-get install python3/],
      ["bubblewrap", (f) => (f.sandbox = classifyFailure("bwrap", "spawn bwrap ENOENT")), /apt-get install bubblewrap/],
      ["bubblewrap", (f) => (f.sandbox = classifyFailure("bwrap", "bwrap: setting up uid map: Permission denied")), /sysctl/],
      ["agent builtin", (f) => (f.agents[0]!.present = false), /npm ci/],
      ["agent case", (f) => (f.caseBin = { set: true, problem: "CTO_HARNESS_CASE_BIN points at $CTO_HARNESS_CASE_BIN, which does not exist" }), /chmod \+x/],
      ["runs directory", (f) => (f.runsDir = { fromVariable: true, writable: false, problem: "it refuses new entries (EACCES)" }), /CTO_HARNESS_RUNS_DIR/],
      ["admission file", (f) => (f.admission = { set: true, pairs: null, error: "$CTO_HARNESS_CASE_MODEL_ADMISSION_FILE:3:5: malformed" }), /admitted:/],
      ["cto-harness.config.yaml", (f) => (f.configFile = { present: true, error: "bad" }), /url_env/],
      ["endpoint qwen-local", (f) => f.endpoints.push({ provider: "qwen-local", urlVar: "U", valid: false, reachable: null, status: null, models: null, simulated: false }), /export U=/],
      ["endpoint qwen-local", (f) => f.endpoints.push({ provider: "qwen-local", urlVar: "U", valid: true, reachable: false, status: null, models: null, simulated: false }), /start the model server/],
      ["endpoint qwen-local", (f) => f.endpoints.push({ provider: "qwen-local", urlVar: "U", valid: true, reachable: true, status: 401, models: null, simulated: false }), /key/],
    ];
    for (const [name, breakIt, fix] of cases) {
      const f = goodFacts();
      breakIt(f);
      const r = decideDoctor(f, "0.1.0");
      const c = r.checks.find((x) => x.name === name && x.level === "fail");
      expect(c, `${name} should fail`).toBeDefined();
      expect(c!.fix, name).toMatch(fix);
      expect(r.ok, name).toBe(false);
      expect(renderDoctor(r)).toContain(`FAIL ${name}`);
    }
  });

  it("what only some engines need warns without failing; a reachable endpoint is ok", () => {
    const f = goodFacts();
    f.agents[1]!.present = false;
    f.endpoints.push({ provider: "qwen-local", urlVar: "U", valid: true, reachable: true, status: 200, models: 2, simulated: false });
    const r = decideDoctor(f, "0.1.0");
    expect(r.ok).toBe(true);
    expect(r.checks.find((c) => c.name === "agent pi")?.level).toBe("warn");
    expect(r.checks.find((c) => c.name === "endpoint qwen-local")).toMatchObject({ level: "ok" });
  });
});

describe("cto-harness doctor", () => {
  let sim: SimServer;
  beforeAll(async () => {
    sim = await startSimulator({ scenario: "solve", models: ["qwen3.6-35b-a3b"] });
  });
  afterAll(async () => {
    await sim.close();
  });

  it("never prints a configuration value: canaries in every variable, the endpoint reached with them", async () => {
    const dir = tempDir("doctor-canary");
    const tag = randomBytes(6).toString("hex");
    const u = new URL(sim.baseUrl);
    const url = `http://canary-user-${tag}:canary-pass-${tag}@${u.host}${u.pathname}?token=canarytok${tag}`;
    const key = `canary-key-${tag}`;
    const admission = join(dir, `canary-admission-${tag}.yaml`);
    writeFileSync(admission, "admitted:\n  - provider: qwen-local\n    model: [unclosed\n");
    const runsDir = join(dir, `canary-runs-${tag}`);
    const env = {
      CTO_HARNESS_CASE_LOCAL_BASE_URL: url,
      CTO_HARNESS_CASE_LOCAL_API_KEY: key,
      CTO_HARNESS_CASE_BIN: join(dir, `canary-bin-${tag}`),
      CTO_HARNESS_CASE_MODEL_ADMISSION_FILE: admission,
      CTO_HARNESS_RUNS_DIR: runsDir,
      CTO_HARNESS_BWRAP: join(dir, `canary-bwrap-${tag}`),
      CTO_HARNESS_CACHE_DIR: join(dir, `canary-cache-${tag}`),
      CTO_HARNESS_CASE_RO_PATHS: join(dir, `canary-ro-${tag}`),
    };
    for (const args of [["--json"], []]) {
      const r = await doctorAsync(env, args);
      const out = r.stdout + r.stderr;
      const fragments = [url, key, `canary-user-${tag}`, `canary-pass-${tag}`, `canarytok${tag}`, `canary-admission-${tag}`, `canary-runs-${tag}`, `canary-bin-${tag}`, `canary-bwrap-${tag}`, `canary-cache-${tag}`, `canary-ro-${tag}`];
      const leaks = fragments.flatMap((f) => canaryForms(f).filter((form) => out.includes(form)));
      expect(leaks, `doctor ${args.join(" ")} printed a configuration value`).toEqual([]);
      expect(r.code, "missing pieces a run needs: non-zero exit").toBe(1);
      if (args.length) {
        const report = JSON.parse(r.stdout); // exactly one JSON document
        const byName = Object.fromEntries(report.checks.map((c: { name: string }) => [c.name, c]));
        expect(byName["endpoint qwen-local"]).toMatchObject({ level: "ok" });
        expect(byName["endpoint qwen-local"].detail).toMatch(/HTTP 200/);
        expect(byName.bubblewrap).toMatchObject({ level: "fail" });
        expect(byName.bubblewrap.fix).toBeTruthy();
        expect(byName["agent case"]).toMatchObject({ level: "fail" });
        expect(byName["admission file"]).toMatchObject({ level: "fail" });
        expect(byName["admission file"].detail).toMatch(/\$CTO_HARNESS_CASE_MODEL_ADMISSION_FILE:\d+/);
        expect(byName["configuration variables"].detail).toMatch(/set: CTO_HARNESS_CASE_LOCAL_BASE_URL \(secret\), CTO_HARNESS_CASE_LOCAL_API_KEY \(secret\)/);
        expect(byName["runs directory"]).toMatchObject({ level: "ok" });
      }
    }
  });

  it("exits by readiness: 1 with what is missing (a runs directory that is a file), its fix; one JSON document", () => {
    const dir = tempDir("doctor-runs");
    writeFileSync(join(dir, "file"), "");
    const r = doctor({ CTO_HARNESS_RUNS_DIR: join(dir, "file") });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.schema).toBe("cto-harness/doctor@1");
    const runs = report.checks.find((c: { name: string }) => c.name === "runs directory");
    expect(runs).toMatchObject({ level: "fail" });
    expect(runs.detail).toMatch(/not a directory/);
    expect(r.stderr).toMatch(/NOT ready/);
  });

  it("an unreachable endpoint fails, naming the variable and not the URL", () => {
    const r = doctor({ CTO_HARNESS_CASE_LOCAL_BASE_URL: "http://127.0.0.1:9/v1" });
    const report = JSON.parse(r.stdout);
    const ep = report.checks.find((c: { name: string }) => c.name === "endpoint qwen-local");
    expect(ep).toMatchObject({ level: "fail" });
    expect(ep.detail).toMatch(/CTO_HARNESS_CASE_LOCAL_BASE_URL/);
    expect(r.stdout + r.stderr).not.toContain("127.0.0.1:9");
    expect(r.code).toBe(1);
  });

  it("with nothing missing it exits 0 (where this machine has bubblewrap, git and python3)", () => {
    const dir = tempDir("doctor-ok");
    mkdirSync(join(dir, "runs"));
    const r = doctor({ CTO_HARNESS_RUNS_DIR: join(dir, "runs") });
    const report = JSON.parse(r.stdout);
    const fails = report.checks.filter((c: { level: string }) => c.level === "fail");
    expect(r.code).toBe(fails.length === 0 ? 0 : 1);
    expect(report.ok).toBe(fails.length === 0);
  });
});

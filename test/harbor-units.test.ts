// The pure parts of Harbor support: the Dockerfile reader (with hostile input), the reward as
// Harbor reads it, CTRF records, the missing-command finder, the sandbox view per role, and
// the sandbox's refusal of mounts over system directories.
import { describe, expect, it } from "vitest";
import { installedBy, logicalLines, readDockerfile, safeSource } from "../src/fixtures/harbor/dockerfile.ts";
import { pythonFloat, readReward, rewardPasses } from "../src/fixtures/harbor/reward.ts";
import { ctrfRecords } from "../src/judge/harbor/ctrf.ts";
import { missingCommands } from "../src/fixtures/harbor/missing-command.ts";
import { harborView } from "../src/fixtures/harbor/view.ts";
import { buildBwrapArgs, SandboxSpecError, validateSandboxSpec } from "../src/sandbox/bwrap.ts";
import { decideVerdict } from "../src/judge/verdict.ts";
import type { HarborTask } from "../src/fixtures/types.ts";

describe("readDockerfile", () => {
  it("WORKDIR (relative ones join), ENV in both forms with $VAR expansion, COPY into and outside WORKDIR", () => {
    const v = readDockerfile(
      [
        "FROM python:3.13-slim-bookworm",
        "# a comment",
        "ENV APP_HOME=/srv \\",
        "    MODE=\"strict mode\"",
        "ENV LEGACY value with spaces",
        'ENV PATH="${APP_HOME}/bin:$PATH"',
        "WORKDIR $APP_HOME",
        "WORKDIR app",
        "COPY data.csv ./",
        "COPY conf/ /etc-like/conf/",
        'COPY ["a.txt", "b.txt", "sub/"]',
        "RUN apt-get update && apt-get install -y jq=1.6 curl",
      ].join("\n"),
    );
    expect(v.workdir).toBe("/srv/app");
    expect(v.env).toMatchObject({ APP_HOME: "/srv", MODE: "strict mode", LEGACY: "value with spaces" });
    expect(v.env.PATH).toBe("/srv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    expect(v.copies).toEqual([
      { sources: ["data.csv"], dest: "/srv/app", destIsDir: true, line: 9 },
      { sources: ["conf"], dest: "/etc-like/conf", destIsDir: true, line: 10 },
      { sources: ["a.txt", "b.txt"], dest: "/srv/app/sub", destIsDir: true, line: 11 },
    ]);
    expect(v.runs).toEqual([{ line: 12, text: "apt-get update && apt-get install -y jq=1.6 curl", installs: ["jq", "curl"] }]);
    expect(v.needsContainer).toEqual([]);
  });

  it("/app when there is no WORKDIR", () => {
    expect(readDockerfile("FROM ubuntu:24.04\n").workdir).toBe("/app");
  });

  it("says `needs a container` for other users, services, other images, network fetches, archives", () => {
    const v = readDockerfile(
      [
        "FROM ghcr.io/some/private-image:latest",
        "RUN useradd -m svc",
        "RUN service postgresql start",
        "USER svc",
        "ADD https://example.invalid/x.tgz /opt/",
        "ADD bundle.tar.gz /opt/",
        "COPY --from=builder /out /app",
        "VOLUME /data",
      ].join("\n"),
    );
    const text = v.needsContainer.join("\n");
    for (const what of ["base image", "another user or group", "service", "USER svc", "network", "unpacks the archive", "--from", "VOLUME"]) expect(text).toContain(what);
  });

  it("a source may not leave environment/: absolute paths, .., URLs, NUL are refused", () => {
    for (const bad of ["/etc/passwd", "../secret", "a/../../b", "file:///etc/shadow", "x\0y"]) expect(safeSource(bad), bad).toBeNull();
    expect(safeSource("./data/")).toBe("data");
    const v = readDockerfile("FROM python:3\nCOPY ../../../root/.ssh /app/keys\nCOPY /etc/shadow /app/\n");
    expect(v.copies).toEqual([]);
    expect(v.needsContainer.join("\n")).toMatch(/outside the task's environment\/ directory/);
  });

  it("hostile text: unterminated quotes, huge input, garbage lines do not throw", () => {
    const v = readDockerfile(`FROM python:3\nENV A="unterminated\nWORKDIR "\n???\n${"RUN x\n".repeat(20000)}`);
    expect(v.runs.length).toBeLessThanOrEqual(5000);
    expect(() => readDockerfile("\u0000\u2028COPY\n")).not.toThrow();
    const joined = logicalLines("RUN a \\\n# c\n  b\nCOPY x y\n");
    expect(joined.map((l) => [l.line, l.text.replace(/\s+/g, " ")])).toEqual([[1, "RUN a b"], [4, "COPY x y"]]);
  });

  it("installedBy: apt, pip, uv pip and the uv installer", () => {
    expect(installedBy("pip install --no-cache-dir pytest==8.4.1 requests>=2")).toEqual(["pytest", "requests"]);
    expect(installedBy("curl -LsSf https://astral.sh/uv/0.7.13/install.sh | sh")).toEqual(["uv"]);
    expect(installedBy("uv pip install --system numpy")).toEqual(["numpy"]);
  });
});

describe("the reward, as Harbor reads it", () => {
  it("reward.txt: a number as Python's float() reads it", () => {
    expect(pythonFloat(" 1\n")).toBe(1);
    expect(pythonFloat("0.5")).toBe(0.5);
    expect(pythonFloat("1_0")).toBe(10);
    expect(pythonFloat("inf")).toBe(Infinity);
    expect(pythonFloat("1 2")).toBeNull();
    expect(pythonFloat("true")).toBeNull();
    expect(readReward(null, "1\n")).toMatchObject({ value: 1, source: "reward.txt", problem: null });
    expect(readReward(null, "")).toMatchObject({ value: null, source: "reward.txt", problem: "reward.txt is empty" });
    expect(readReward(null, "passed").problem).toMatch(/not a number/);
  });

  it("reward.json first; numeric non-boolean values only; reward.txt supplies a missing `reward`", () => {
    expect(readReward('{"reward": 0, "x": 1}', "1")).toMatchObject({ value: 0, source: "reward.json", rewards: { reward: 0, x: 1 } });
    expect(readReward('{"score": 1, "ok": true, "name": "n"}', "0.25")).toMatchObject({ value: 0.25, rewards: { score: 1, reward: 0.25 } });
    expect(readReward('{"a": 1, "b": 0.5}', null)).toMatchObject({ value: 0.5 });
    expect(readReward("[1]", null).problem).toBe("reward.json is not an object");
    expect(readReward("{", null).problem).toBe("reward.json is not JSON");
    expect(readReward('{"ok": true}', null).problem).toBe("reward.json holds no numeric reward");
  });

  it("a reward file decides over the exit code; without one the exit code does", () => {
    expect(rewardPasses(readReward(null, "0"), 0, false)).toBe(false); // exit 0, reward 0: fail
    expect(rewardPasses(readReward(null, "1"), 1, false)).toBe(true); // exit 1, reward 1: pass
    expect(rewardPasses(readReward(null, "0.99"), 0, false)).toBe(false);
    expect(rewardPasses(readReward(null, "nan"), 0, false)).toBe(false);
    expect(rewardPasses(readReward(null, null), 0, false)).toBe(true);
    expect(rewardPasses(readReward(null, null), 2, false)).toBe(false);
    expect(rewardPasses(readReward(null, "1"), 0, true)).toBe(false);
    const v = decideVerdict({ captureError: null, findings: [], exitCode: 0, timedOut: false, count: null, reward: readReward(null, "0") });
    expect(v).toMatchObject({ passed: false, reason: "tests failed", detail: "the verifier's reward.txt gives reward 0 (a pass is 1)" });
    expect(decideVerdict({ captureError: null, findings: [], exitCode: 1, timedOut: false, count: null, reward: readReward(null, "1") }).passed).toBe(true);
  });
});

describe("CTRF and missing commands", () => {
  it("CTRF tests become judge records named by the file the sandbox saw", () => {
    const doc = JSON.stringify({ results: { tests: [
      { name: "test_outputs.py::test_a", status: "passed", filePath: "/tests/test_outputs.py" },
      { name: "test_outputs.py::test_b", status: "failed", filePath: "/tests/test_outputs.py" },
      { name: "test_c", status: "skipped" },
      { name: 5, status: "passed" },
      null,
    ] } });
    expect(ctrfRecords(doc)).toEqual({ tests: [
      { id: "?::test_c", outcome: "skip" },
      { id: "tests/test_outputs.py::test_a", outcome: "pass" },
      { id: "tests/test_outputs.py::test_b", outcome: "fail" },
    ], problem: null });
    expect(ctrfRecords("nope").problem).toMatch(/not JSON/);
    expect(ctrfRecords("{}").problem).toMatch(/no results.tests/);
  });

  it("a missing command is named with the RUN line that would install it", () => {
    const runs = [{ line: 3, text: "apt-get install -y frobcheck", installs: ["frobcheck"] }];
    expect(missingCommands("/tests/test.sh: line 3: frobcheck: command not found\n", runs)).toEqual([{ command: "frobcheck", run: runs[0] }]);
    expect(missingCommands("ModuleNotFoundError: No module named 'numpy'", [])).toEqual([{ command: "numpy", run: null }]);
    expect(missingCommands("all good", runs)).toEqual([]);
  });
});

const TASK: HarborTask = { workdir: "/app", env: { MODE: "x", CTO_HARNESS_JUDGE_RESULTS: "/evil", HOME: "/evil" }, intoWorkspace: [], outside: [{ src: "/f/env/shop", dest: "/opt/shop", kind: "dir" }], runs: [], needsContainer: [], dockerfile: null };

describe("Harbor's view per role", () => {
  const dirs = { workspace: "/w", outside: ["/s/outside/0"], logsAgent: "/r/logs/agent", logsVerifier: "/s/lv", tests: "/s/tests", solution: "/s/solution", shims: "/h/shims" };
  it("the agent: workspace at WORKDIR, /logs/agent, the outside COPY read-only; never /tests, /solution or /logs/verifier", () => {
    const v = harborView(TASK, "agent", dirs);
    expect(v.cwd).toBe("/app");
    expect(v.mounts).toEqual([
      { src: "/w", dest: "/app", readOnly: false },
      { src: "/s/outside/0", dest: "/opt/shop", readOnly: true },
      { src: "/r/logs/agent", dest: "/logs/agent", readOnly: false },
    ]);
    expect(v.env).toEqual({ MODE: "x", PATH: expect.any(String) });
  });
  it("the oracle gets /solution; the verifier /tests, /logs/verifier and the shims first on PATH", () => {
    expect(harborView(TASK, "oracle", dirs).mounts.map((m) => m.dest)).toEqual(["/app", "/opt/shop", "/solution", "/logs/agent"]);
    const v = harborView(TASK, "verifier", dirs);
    expect(v.mounts.map((m) => m.dest)).toEqual(["/app", "/opt/shop", "/tests", "/logs/verifier", "/logs/agent", "/opt/cto-harness/bin"]);
    expect(v.mounts.find((m) => m.dest === "/logs/agent")?.readOnly).toBe(true);
    expect(v.env.PATH!.startsWith("/opt/cto-harness/bin:")).toBe(true);
  });
  it("the sandbox refuses a destination over a system directory, and binds the others at their destination", () => {
    const base = { workspace: "/tmp/ws", roBinds: [], protectedPaths: [] };
    for (const dest of ["/usr/src/app", "/etc", "/", "/proc/x", "/bin"]) {
      expect(() => validateSandboxSpec({ ...base, mounts: [{ src: "/tmp/a", dest, readOnly: false }] }), dest).toThrow(SandboxSpecError);
    }
    const args = buildBwrapArgs({ ...base, mounts: [{ src: "/tmp/a", dest: "/app", readOnly: false }, { src: "/tmp/t", dest: "/tests", readOnly: true }], cwd: "/app" }, "true", []);
    expect(args.join(" ")).toContain("--bind /tmp/a /app");
    expect(args.join(" ")).toContain("--ro-bind /tmp/t /tests");
    expect(args.join(" ")).toContain("--chdir /app");
    expect(() => buildBwrapArgs({ ...base, shareNetwork: true, proxySocket: "/tmp/s.sock", proxyPort: 9 }, "true", [])).toThrow(/never for an agent/);
    // A WORKDIR over the workspace's own host path (or a parent of it) would make bwrap write mount points there.
    for (const dest of ["/tmp", "/tmp/ws", "/tmp/ws/sub"]) {
      expect(() => validateSandboxSpec({ ...base, mounts: [{ src: "/tmp/a", dest, readOnly: false }] }), dest).toThrow(/overlaps \/tmp\/ws/);
    }
  });

  it("network opt-in: the verifier keeps the host's network and gets no shims; an agent's spec never", async () => {
    expect(harborView(TASK, "verifier", { ...dirs, shims: undefined }).mounts.some((m) => m.dest === "/opt/cto-harness/bin")).toBe(false);
    expect(buildBwrapArgs({ workspace: "/tmp/ws", roBinds: [], protectedPaths: [], shareNetwork: true }, "true", [])).toContain("--share-net");
    expect(buildBwrapArgs({ workspace: "/tmp/ws", roBinds: [], protectedPaths: [] }, "true", [])).not.toContain("--share-net");
  });
});

// bubblewrap isolation, end to end with real bwrap: what the agent can see, write and
// reach, that the proxy is reachable only through the bridge, that the PID namespace
// hides the host, that no secret is in bwrap's argv, and that an unusable bwrap fails
// closed. Plus the pure argv builder's rules.
import { createServer as createHttpServer, type Server } from "node:http";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  buildBwrapArgs,
  checkSandbox,
  classifyFailure,
  MERGED_USR_LAYOUT,
  renderSandboxMarker,
  resetSandboxCheck,
  SandboxSpecError,
  type SandboxSpec,
} from "../src/sandbox/bwrap.ts";
import { pidsWithEnv, runProcess, type ProcessOutcome } from "../src/sandbox/process.ts";
import { startProcSampler } from "../src/secrets/proc-sampler.ts";

const CANARY = "http://canaryuser:canary-pass-8361@canary-host.example:8000/v1?token=tok-canary-5521";
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(prefix = "cto-sbx-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

let root: string;
let workspace: string;
let protectedDir: string;
beforeAll(() => {
  root = tmp();
  workspace = join(root, "workspace");
  mkdirSync(workspace);
  protectedDir = tmp("cto-protected-");
  writeFileSync(join(protectedDir, "secret.txt"), "protected content\n");
});

function baseSpec(more: Partial<SandboxSpec> = {}): SandboxSpec {
  return { workspace, roBinds: [], protectedPaths: [protectedDir], homeDir: "/tmp/home", ...more };
}

async function inSandbox(script: string, more: Partial<SandboxSpec> = {}, env: Record<string, string> = {}, timeoutMs = 20_000) {
  const logs = tmp("cto-sbx-logs-");
  const res: ProcessOutcome = await runProcess({
    command: "/bin/bash",
    args: ["-c", script],
    cwd: workspace,
    env: { PATH: "/usr/bin:/bin", HOME: "/tmp/home", ...env },
    timeoutMs,
    graceMs: 500,
    stdoutFile: join(logs, "out"),
    stderrFile: join(logs, "err"),
    isolation: baseSpec(more),
  });
  return { res, out: readFileSync(join(logs, "out"), "utf8"), err: readFileSync(join(logs, "err"), "utf8") };
}

describe("buildBwrapArgs (pure)", () => {
  it("builds an allowlist sandbox with namespaces and no --setenv", () => {
    const a = buildBwrapArgs(baseSpec({ roBinds: ["/opt/agent"] }), "agent", ["--x"], { layout: MERGED_USR_LAYOUT });
    const joined = a.join(" ");
    for (const f of ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop ALL", "--proc /proc", "--dev /dev", "--tmpfs /tmp"])
      expect(joined).toContain(f);
    expect(joined).toContain(`--bind ${workspace} ${workspace}`);
    expect(joined).toContain("--ro-bind /opt/agent /opt/agent");
    expect(joined).toContain("--tmpfs /tmp/home");
    expect(a).not.toContain("--setenv");
    expect(a).not.toContain("--clearenv");
    expect(joined).not.toMatch(/--(ro-)?bind(-try)? \/(root|home|run|etc) /);
    expect(a.slice(-5)).toEqual(["--chdir", workspace, "--", "agent", "--x"]);
    // /tmp (tmpfs) comes before the workspace bind under it, or the bind would be hidden.
    expect(a.indexOf("/tmp")).toBeLessThan(a.indexOf(workspace));
  });
  it("refuses a spec that would expose a protected path, / or a whole home", () => {
    expect(() => buildBwrapArgs(baseSpec({ roBinds: [join(protectedDir, "..")] }), "x", [])).toThrow(SandboxSpecError);
    expect(() => buildBwrapArgs(baseSpec({ roBinds: [join(protectedDir, "sub")] }), "x", [])).toThrow(/protected/);
    expect(() => buildBwrapArgs(baseSpec({ protectedPaths: ["/usr/share/secret"] }), "x", [])).toThrow(/protected/);
    expect(() => buildBwrapArgs(baseSpec({ rwBinds: ["/"] }), "x", [])).toThrow(SandboxSpecError);
    expect(() => buildBwrapArgs(baseSpec({ roBinds: ["/root"] }), "x", [])).toThrow(SandboxSpecError);
    expect(() => buildBwrapArgs(baseSpec({ roBinds: ["/home/alice"] }), "x", [])).toThrow(SandboxSpecError);
    expect(() => buildBwrapArgs(baseSpec({ roBinds: ["relative/path"] }), "x", [])).toThrow(/absolute/);
    expect(() => buildBwrapArgs(baseSpec({ cwd: "/srv/elsewhere" }), "x", [])).toThrow(/working directory/);
  });
  it("runs the bridge with the project's Node when a proxy socket is given", () => {
    const a = buildBwrapArgs(baseSpec({ proxySocket: "/tmp/run/proxy.sock", proxyPort: 4111 }), "agent", [], {
      bridge: { node: "/n/node", script: "/s/bridge.mts" },
    });
    expect(a.join(" ")).toContain("--ro-bind /tmp/run/proxy.sock /tmp/run/proxy.sock");
    expect(a.slice(a.indexOf("--") + 1)).toEqual(["/n/node", "--disable-warning=ExperimentalWarning", "/s/bridge.mts", "4111", "/tmp/run/proxy.sock", "agent"]);
    expect(() => buildBwrapArgs(baseSpec({ proxySocket: "/tmp/x.sock" }), "a", [])).toThrow(/together/);
  });
  it("classifies failures with advice", () => {
    expect(classifyFailure("/x/bwrap", "spawn /x/bwrap ENOENT").reason).toMatch(/not found/);
    const ns = classifyFailure("bwrap", "bwrap: No permissions to create new namespace, likely because the kernel does not allow non-privileged user namespaces.");
    expect(ns.advice).toMatch(/user namespaces/);
    const marker = renderSandboxMarker(ns.reason, ns.advice);
    expect(marker).toMatch(/^sandbox unavailable/);
    expect(marker).toContain("--isolation none");
  });
});

describe("bwrap sandbox (real)", () => {
  let http: Server;
  let port = 0;
  let hits = 0;
  beforeAll(async () => {
    const check = await checkSandbox();
    expect(check).toEqual({ ok: true }); // this machine kind has bwrap; the suite must not silently skip
    http = createHttpServer((_req, res) => {
      hits++;
      res.end("host-server-reached\n");
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    port = (http.address() as { port: number }).port;
  });
  afterAll(() => http?.close());

  it("lets the agent write its workspace and nothing else", async () => {
    const { res, out } = await inSandbox(
      `echo made > made.txt && echo ws-ok; touch /usr/x 2>/dev/null || echo usr-ro; touch /etc/x 2>/dev/null || echo etc-ro; ` +
        `echo h > $HOME/h && echo home-ok; touch ${root}/outside-tmpfs; touch /newdir 2>/dev/null || echo root-ro`,
    );
    expect(res.exitCode).toBe(0);
    expect(out.split("\n")).toEqual(expect.arrayContaining(["ws-ok", "usr-ro", "etc-ro", "home-ok", "root-ro"]));
    // The sandbox's /tmp is its own: a write there never reaches the host.
    expect(() => readFileSync(join(root, "outside-tmpfs"))).toThrow();
    expect(readFileSync(join(workspace, "made.txt"), "utf8")).toBe("made\n");
  });

  it("hides /root, /home, /run and the protected path", async () => {
    const { out } = await inSandbox(
      `for p in /root /home /run ${protectedDir}/secret.txt ${protectedDir} /etc/shadow; do test -e $p && echo "visible $p" || echo "absent $p"; done`,
    );
    expect(out).not.toContain("visible");
    expect(out).toContain(`absent ${protectedDir}/secret.txt`);
  });

  it("has no network: a loopback server outside is unreachable", async () => {
    const before = hits;
    const { out } = await inSandbox(`(echo > /dev/tcp/127.0.0.1/${port}) 2>/dev/null && echo connected || echo refused`);
    expect(out.trim()).toBe("refused");
    expect(hits).toBe(before);
  });

  it("reaches the run's proxy through the Unix-socket bridge on 127.0.0.1:<proxyPort>", async () => {
    const sockDir = tmp("cto-sock-");
    const sock = join(sockDir, "proxy.sock");
    const proxy = createHttpServer((req, res) => res.end(`proxy saw ${req.method} ${req.url}\n`));
    await new Promise<void>((r) => proxy.listen(sock, r));
    try {
      const { res, out, err } = await inSandbox(
        `exec 3<>/dev/tcp/127.0.0.1/4111; printf 'GET /v1/models HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n' >&3; cat <&3; exit 7`,
        { proxySocket: sock, proxyPort: 4111 },
      );
      expect(err).toBe("");
      expect(out).toContain("proxy saw GET /v1/models");
      expect(res.exitCode).toBe(7); // the bridge passes the agent's exit status on
    } finally {
      proxy.close();
    }
  });

  it("shows only the sandbox's own processes", async () => {
    const { out } = await inSandbox(`ps -e -o pid=,comm=`);
    const rows = out.trim().split("\n").map((l) => l.trim().split(/\s+/));
    expect(rows.length).toBeLessThanOrEqual(4); // bwrap (pid 1), bash, ps
    expect(rows.map((r) => r[1])).not.toContain("node");
    expect(Math.max(...rows.map((r) => Number(r[0])))).toBeLessThan(10);
  });

  it("keeps the secret out of bwrap's argv (it travels only in the inherited environment)", async () => {
    const logs = tmp("cto-sbx-logs-");
    let sampler: ReturnType<typeof startProcSampler> | undefined;
    const res = await runProcess({
      command: "/bin/bash",
      args: ["-c", "sleep 0.5"],
      cwd: workspace,
      env: { PATH: "/usr/bin:/bin", SOME_URL: CANARY },
      timeoutMs: 20_000,
      stdoutFile: join(logs, "out"),
      stderrFile: join(logs, "err"),
      isolation: baseSpec(),
      onSpawn: (pid) => (sampler = startProcSampler(pid, [CANARY], 50)),
    });
    const seen = sampler!.stop();
    expect(res.exitCode).toBe(0);
    expect(seen.processes).toBeGreaterThanOrEqual(2); // bwrap and what runs inside
    expect(seen.findings.filter((f) => f.where === "argv")).toEqual([]);
    expect(seen.findings.some((f) => f.where === "environ")).toBe(true); // the sampler does see it where it is
  });

  it("kills everything in the sandbox on timeout, setsid'd processes included", async () => {
    const marker = `m${Math.random().toString(16).slice(2)}`;
    const { res } = await inSandbox(`setsid bash -c 'trap "" TERM; sleep 1000' & trap "" TERM; sleep 1000`, {}, { MARK: marker }, 500);
    expect(res.timedOut).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    const left = pidsWithEnv("MARK", marker).filter((pid) => {
      try {
        const s = readFileSync(`/proc/${pid}/stat`, "latin1");
        return s[s.lastIndexOf(")") + 2] !== "Z";
      } catch {
        return false;
      }
    });
    expect(left).toEqual([]);
  });
});

describe("fail closed", () => {
  const saved = process.env.CTO_HARNESS_BWRAP;
  afterEach(() => {
    if (saved === undefined) delete process.env.CTO_HARNESS_BWRAP;
    else process.env.CTO_HARNESS_BWRAP = saved;
    resetSandboxCheck();
  });
  it("reports the sandbox unavailable and runs nothing when bwrap is broken", async () => {
    process.env.CTO_HARNESS_BWRAP = "/nonexistent/bwrap";
    resetSandboxCheck();
    const check = await checkSandbox();
    expect(check.ok).toBe(false);
    if (!check.ok) {
      expect(check.reason).toContain("/nonexistent/bwrap");
      expect(check.advice).toMatch(/bubblewrap/);
    }
    const flag = join(tmp(), "ran");
    const { res } = await inSandbox(`touch ${flag}`);
    expect(res.started).toBe(false);
    expect(res.sandboxUnavailable?.reason).toMatch(/not found/);
    expect(() => readFileSync(flag)).toThrow();
  });
  it("refuses a spec exposing a protected path at run time too", async () => {
    const { res } = await inSandbox(`true`, { roBinds: [protectedDir] });
    expect(res.started).toBe(false);
    expect(res.sandboxUnavailable?.reason).toMatch(/protected/);
  });
});

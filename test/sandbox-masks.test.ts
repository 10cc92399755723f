// "Nothing secret in reach": which hidden directories the sandbox masks (pure, table-tested
// without processes), the order of the mounts bwrap gets, and — with real bwrap — that a
// masked directory shows nothing while the run's own workspace inside it stays writable.
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  buildBwrapArgs,
  decideMasks,
  MERGED_USR_LAYOUT,
  renderSandboxMarker,
  sandboxMasks,
  SandboxSpecError,
  type HiddenPath,
  type MountView,
  type SandboxSpec,
} from "../src/sandbox/bwrap.ts";
import { runProcess } from "../src/sandbox/process.ts";
import { agentHiddenPaths } from "../src/engines/spawn.ts";
import type { Fixture } from "../src/fixtures/types.ts";

const host = (path: string, what = "read-only bind"): MountView => ({ path, what, source: "host", own: false });
const own = (path: string, what = "workspace"): MountView => ({ path, what, source: "host", own: true });
const empty = (path: string, what = "sandbox /tmp"): MountView => ({ path, what, source: "empty", own: true });
const SYSTEM: MountView[] = [host("/usr", "system mount"), host("/etc/ssl", "system mount"), empty("/tmp")];
const RUNS: HiddenPath = { path: "/opt/agent/runs", what: "the runs directory" };
const RUN_DIR: HiddenPath = { path: "/opt/agent/runs/r1", what: "this run's directory" };
const RUN_OWN = [own("/opt/agent/runs/r1/workspace"), own("/opt/agent/runs/r1/agent-home", "read-write bind"), own("/opt/agent/runs/r1/agent-io", "read-write bind")];

type Row = {
  name: string;
  mounts: MountView[];
  hidden: HiddenPath[];
  state?: Record<string, "missing" | "not a directory">;
  masks?: string[];
  refused?: RegExp;
};

const rows: Row[] = [
  {
    name: "runs directory under the agent's own dir: masked; the run's own paths inside it are fine",
    mounts: [...SYSTEM, host("/opt/agent"), ...RUN_OWN],
    hidden: [RUN_DIR, RUNS],
    masks: ["/opt/agent/runs"], // the run dir lies under that mask already
  },
  {
    name: "runs directory under nothing bound (the sandbox's own /tmp): nothing to mask",
    mounts: [...SYSTEM, host("/opt/agent"), own("/tmp/runs/r1/workspace")],
    hidden: [{ path: "/tmp/runs", what: "the runs directory" }],
    masks: [],
  },
  {
    name: "fixture given by path under a CTO_HARNESS_CASE_RO_PATHS entry: masked",
    mounts: [...SYSTEM, host("/opt/agent"), host("/srv/shared"), own("/tmp/runs/r1/workspace")],
    hidden: [{ path: "/srv/shared/fixtures/f1", what: "the run's fixture directory" }],
    masks: ["/srv/shared/fixtures/f1"],
  },
  {
    name: "built-in fixtures of a global install under /usr: masked",
    mounts: [...SYSTEM, own("/tmp/ws")],
    hidden: [{ path: "/usr/local/lib/node_modules/cto-harness/fixtures", what: "the harness's built-in fixtures" }],
    masks: ["/usr/local/lib/node_modules/cto-harness/fixtures"],
  },
  {
    name: "several hidden paths in several binds, masks parents first",
    mounts: [...SYSTEM, host("/opt/agent"), host("/srv/shared"), ...RUN_OWN],
    hidden: [{ path: "/srv/shared/cache/cto-harness", what: "the cache" }, RUNS, { path: "/opt/agent/fixtures", what: "built-in" }],
    masks: ["/opt/agent/fixtures", "/opt/agent/runs", "/srv/shared/cache/cto-harness"], // by depth, then name
  },
  {
    name: "a hidden path inside a mask that a bind re-exposes is masked again",
    mounts: [...SYSTEM, host("/opt/agent"), own("/opt/agent/runs/r1/workspace")],
    hidden: [RUNS, { path: "/opt/agent/runs/r1/workspace/.secret", what: "odd" }],
    masks: ["/opt/agent/runs", "/opt/agent/runs/r1/workspace/.secret"],
  },
  {
    name: "hidden path under the agent's HOME tmpfs: already empty",
    mounts: [...SYSTEM, own("/tmp/ws"), empty("/home/u/agent-home", "home dir")],
    hidden: [{ path: "/home/u/agent-home/.cache/cto-harness", what: "the cache" }],
    masks: [],
  },
  {
    name: "the same path twice: one mask",
    mounts: [...SYSTEM, host("/opt/agent")],
    hidden: [RUNS, { ...RUNS, what: "again" }],
    masks: ["/opt/agent/runs"],
  },
  {
    name: "temporary directory (mask only): masked where a bind contains it, binds inside it allowed",
    mounts: [...SYSTEM, host("/opt/agent"), host("/opt/agent/tmp/agent-install")],
    hidden: [{ path: "/opt/agent/tmp", what: "tmp", wholly: false }],
    masks: ["/opt/agent/tmp"],
  },
  {
    name: "temporary directory /tmp: the sandbox's own tmpfs, nothing to do, the agent's dir in it is fine",
    mounts: [...SYSTEM, host("/tmp/cto-hostile-x"), own("/tmp/runs/r1/workspace")],
    hidden: [{ path: "/tmp", what: "tmp", wholly: false }],
    masks: [],
  },
  {
    name: "a missing hidden path under nothing bound: fine",
    mounts: [...SYSTEM, host("/opt/agent")],
    hidden: [{ path: "/var/cache/cto-harness", what: "the cache" }],
    state: { "/var/cache/cto-harness": "missing" },
    masks: [],
  },
  // ── refused ──
  {
    name: "a read-only bind inside the runs directory (the agent's install among the runs)",
    mounts: [...SYSTEM, host("/data/runs/agent-install"), own("/data/runs/r1/workspace")],
    hidden: [{ path: "/data/runs", what: "the runs directory" }],
    refused: /read-only bind \/data\/runs\/agent-install lies inside the runs directory \/data\/runs/,
  },
  {
    name: "a read-only bind that is the fixture directory itself",
    mounts: [...SYSTEM, host("/srv/fixtures/f1")],
    hidden: [{ path: "/srv/fixtures/f1", what: "the run's fixture directory" }],
    refused: /read-only bind \/srv\/fixtures\/f1 is the run's fixture directory/,
  },
  {
    name: "the workspace itself hidden",
    mounts: [...SYSTEM, own("/data/runs/r1/workspace")],
    hidden: [{ path: "/data/runs/r1/workspace", what: "the runs directory" }],
    refused: /workspace \/data\/runs\/r1\/workspace is the runs directory/,
  },
  {
    name: "a system mount inside a hidden path",
    mounts: [...SYSTEM],
    hidden: [{ path: "/etc", what: "odd" }],
    refused: /system mount \/etc\/ssl lies inside odd \/etc/,
  },
  {
    name: "a hidden path under a bind that does not exist yet (it could appear unmasked)",
    mounts: [...SYSTEM, host("/opt/agent")],
    hidden: [{ path: "/opt/agent/cache", what: "the cache" }],
    state: { "/opt/agent/cache": "missing" },
    refused: /does not exist yet but lies inside the bound path \/opt\/agent/,
  },
  {
    name: "a hidden path under a bind that is a file",
    mounts: [...SYSTEM, host("/opt/agent")],
    hidden: [{ path: "/opt/agent/runs", what: "the runs directory" }],
    state: { "/opt/agent/runs": "not a directory" },
    refused: /not a directory/,
  },
  {
    name: "a relative hidden path",
    mounts: [...SYSTEM],
    hidden: [{ path: "runs", what: "the runs directory" }],
    refused: /absolute/,
  },
];

describe("decideMasks (pure)", () => {
  for (const r of rows) {
    it(r.name, () => {
      const run = () => decideMasks(r.mounts, r.hidden, r.state);
      if (r.refused) {
        expect(run).toThrow(SandboxSpecError);
        expect(run).toThrow(r.refused);
        try {
          run();
        } catch (e) {
          if (!/absolute/.test(r.refused.source)) expect((e as SandboxSpecError).advice).toMatch(/runs directory|Create/);
        }
      } else {
        expect(run().map((m) => m.path)).toEqual(r.masks);
      }
    });
  }
});

describe("buildBwrapArgs with hidden paths (pure)", () => {
  const spec: SandboxSpec = {
    workspace: "/opt/agent/runs/r1/workspace",
    roBinds: ["/opt/agent"],
    rwBinds: ["/opt/agent/runs/r1/agent-home", "/opt/agent/runs/r1/agent-io"],
    homeDir: "/opt/agent/runs/r1/agent-home",
    protectedPaths: [],
    hidden: [RUNS, RUN_DIR],
  };

  it("binds the parent, then the mask, then the run's own paths inside it; the mask is made read-only after them", () => {
    const a = buildBwrapArgs(spec, "agent", [], { layout: MERGED_USR_LAYOUT });
    const at = (...xs: string[]) => {
      const i = a.findIndex((_, j) => xs.every((x, k) => a[j + k] === x));
      expect(i, xs.join(" ")).toBeGreaterThanOrEqual(0);
      return i;
    };
    const parent = at("--ro-bind", "/opt/agent", "/opt/agent");
    const mask = at("--tmpfs", "/opt/agent/runs");
    const ws = at("--bind", spec.workspace, spec.workspace);
    const home = at("--bind", "/opt/agent/runs/r1/agent-home", "/opt/agent/runs/r1/agent-home");
    const io = at("--bind", "/opt/agent/runs/r1/agent-io", "/opt/agent/runs/r1/agent-io");
    const ro = at("--remount-ro", "/opt/agent/runs");
    const root = at("--remount-ro", "/");
    expect(parent).toBeLessThan(mask);
    for (const child of [ws, home, io]) {
      expect(mask).toBeLessThan(child);
      expect(child).toBeLessThan(ro);
    }
    expect(ro).toBeLessThan(root);
    // The run dir lies inside the masked runs dir: no second mask for it.
    expect(a).not.toContain("/opt/agent/runs/r1");
    expect(sandboxMasks(spec)).toEqual([{ path: "/opt/agent/runs", what: "the runs directory" }]);
  });

  it("without hidden paths the argv is what it was", () => {
    const { hidden: _h, ...plain } = spec;
    expect(buildBwrapArgs({ ...spec, hidden: [] }, "agent", [])).toEqual(buildBwrapArgs(plain, "agent", []));
    expect(buildBwrapArgs(plain, "agent", [])).not.toContain("/opt/agent/runs");
  });

  it("refuses a spec whose read-only bind lies inside a hidden path", () => {
    expect(() => buildBwrapArgs({ ...spec, roBinds: ["/opt/agent", "/opt/agent/runs/old/tools"] }, "agent", [])).toThrow(/lies inside the runs directory/);
  });

  it("the refusal marker says what was expected, not that bubblewrap failed", () => {
    const text = renderSandboxMarker("refusing sandbox: x", "move it", true);
    expect(text).toContain("Found: refusing sandbox: x");
    expect(text).toContain("mounts nothing the agent must not see");
    expect(text).not.toContain("trial run");
    expect(text).toContain("What to do: move it");
  });
});

describe("agentHiddenPaths (pure)", () => {
  it("hides the caller's paths, this run's dir, its fixture, the built-in fixtures, the cache; the tmp dir mask-only", () => {
    const ctx = {
      runDir: "/r/runs/x",
      fixture: { dir: "/f/fix" } as Fixture,
      env: { CTO_HARNESS_CACHE_DIR: "/c/cache" },
      hiddenPaths: [{ path: "/r/runs", what: "the runs directory" }],
    };
    const h = agentHiddenPaths(ctx, { builtinFixturesDir: "/p/fixtures", tmpDir: "/tmp" });
    expect(h.map((x) => [x.path, x.wholly ?? true])).toEqual([
      ["/r/runs", true],
      ["/r/runs/x", true],
      ["/f/fix", true],
      ["/p/fixtures", true],
      ["/c/cache", true],
      ["/tmp", false],
    ]);
  });
});

describe("masks under real bwrap", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const tmp = (p: string) => {
    const d = realpathSync(mkdtempSync(join(tmpdir(), p)));
    dirs.push(d);
    return d;
  };

  async function inSandbox(script: string, spec: SandboxSpec) {
    const logs = tmp("cto-mask-logs-");
    const res = await runProcess({
      command: "/bin/sh",
      args: ["-c", script],
      cwd: spec.workspace,
      env: { PATH: "/usr/bin:/bin", HOME: spec.homeDir ?? "/tmp" },
      timeoutMs: 20_000,
      stdoutFile: join(logs, "out"),
      stderrFile: join(logs, "err"),
      isolation: spec,
    });
    return { res, out: readFileSync(join(logs, "out"), "utf8") };
  }

  function layout() {
    const agent = tmp("cto-mask-agent-");
    writeFileSync(join(agent, "tool.txt"), "the agent's own file\n");
    const runs = join(agent, "runs");
    mkdirSync(join(runs, "old-run", "workspace"), { recursive: true });
    writeFileSync(join(runs, "old-run", "workspace.patch"), "old attempt's fix\n");
    const run = join(runs, "r1");
    for (const d of ["workspace", "agent-home", "agent-io", "baseline"]) mkdirSync(join(run, d), { recursive: true });
    writeFileSync(join(run, "baseline", "report.json"), "{}\n");
    const spec: SandboxSpec = {
      workspace: join(run, "workspace"),
      roBinds: [agent],
      rwBinds: [join(run, "agent-home"), join(run, "agent-io")],
      homeDir: join(run, "agent-home"),
      protectedPaths: [],
      hidden: [
        { path: runs, what: "the runs directory" },
        { path: run, what: "this run's directory" },
      ],
    };
    return { agent, runs, run, spec };
  }

  it("the masked runs dir shows only the run's own paths; the workspace stays writable, the mask does not", async () => {
    const { agent, runs, run, spec } = layout();
    const { res, out } = await inSandbox(
      `cat ${agent}/tool.txt; ls ${runs}; ls ${run}; cat ${runs}/old-run/workspace.patch 2>/dev/null || echo old-hidden; ` +
        `cat ${run}/baseline/report.json 2>/dev/null || echo baseline-hidden; echo w > ws.txt && echo ws-writable; ` +
        `echo h > ${run}/agent-home/h && echo home-writable; touch ${runs}/x 2>/dev/null || echo mask-ro; mkdir ${run}/y 2>/dev/null || echo mask-ro2`,
      spec,
    );
    expect(res.exitCode, out).toBe(0);
    const lines = out.trim().split("\n");
    expect(lines).toEqual([
      "the agent's own file",
      "r1",
      "agent-home",
      "agent-io",
      "workspace",
      "old-hidden",
      "baseline-hidden",
      "ws-writable",
      "home-writable",
      "mask-ro",
      "mask-ro2",
    ]);
    expect(readFileSync(join(spec.workspace, "ws.txt"), "utf8")).toBe("w\n");
    expect(res.sandboxMasked).toEqual([{ path: runs, what: "the runs directory" }]);
  });

  it("refuses to start (nothing run) when a read-only bind lies inside the runs dir, naming both", async () => {
    const { runs, spec } = layout();
    const { res } = await inSandbox("echo ran", { ...spec, roBinds: [...spec.roBinds, join(runs, "old-run")] });
    expect(res.started).toBe(false);
    expect(res.sandboxUnavailable?.refused).toBe(true);
    expect(res.sandboxUnavailable?.reason).toContain(`read-only bind ${join(runs, "old-run")} lies inside the runs directory ${runs}`);
  });

  it("a hidden path given through a symlink is masked at its real path", async () => {
    const { agent, runs, spec } = layout();
    const alias = join(tmp("cto-mask-alias-"), "runs-link");
    (await import("node:fs")).symlinkSync(runs, alias);
    const { res, out } = await inSandbox(`ls ${runs}`, { ...spec, hidden: [{ path: alias, what: "the runs directory" }] });
    expect(res.exitCode).toBe(0);
    expect(out.trim()).toBe("r1");
    expect(res.sandboxMasked?.map((m) => m.path)).toEqual([runs]);
    expect(agent).toBeTruthy();
  });
});

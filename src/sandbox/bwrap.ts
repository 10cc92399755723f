// bubblewrap isolation for agents (DESIGN §10). The sandbox sees an allowlist of
// read-only system paths, the workspace read-write at the same path as outside (so
// paths in logs, patches and traces match), an empty /tmp and HOME, its own PID and
// network namespaces, and no network except the run's proxy bridged in through a Unix
// socket. Nothing secret is put in bwrap's argv: the environment is inherited from the
// spawn env, which the caller builds from an allowlist (env.ts).
// See docs/isolation.md and shared/reference/sandbox-and-secrets.md.
import { spawn } from "node:child_process";
import { lstatSync, readlinkSync } from "node:fs";
import { realpath } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export interface SandboxSpec {
  /** Bound read-write at the same path inside (paths in logs match the host). */
  workspace: string;
  /** Extra read-only paths the agent needs (its install dir, node binary dir, node_modules), bound at the same path. */
  roBinds: string[];
  /** Extra read-write paths (e.g. a per-run agent home dir), bound at the same path. */
  rwBinds?: string[];
  /** Unix socket of the run's proxy; bridged inside to 127.0.0.1:<proxyPort>. */
  proxySocket?: string;
  /** Loopback port inside the sandbox the agent uses to reach the proxy. */
  proxyPort?: number;
  /** Must be invisible inside: never mounted; a spec that would mount one (or a parent of one) is refused. */
  protectedPaths: string[];
  /** HOME inside: an empty tmpfs is mounted there unless it is one of rwBinds. The caller sets env HOME to the same path. */
  homeDir?: string;
  /** Working directory inside (default: the workspace); must lie inside a mounted path. */
  cwd?: string;
}

/** How the host's top-level system directories look: merged-/usr symlinks or real directories. */
export interface HostLayout {
  /** Top-level names that are symlinks into /usr on the host, with their link text (e.g. `bin` → `usr/bin`). */
  symlinks: Record<string, string>;
  /** Top-level system directories that are real directories (bound read-only). */
  dirs: string[];
}

/** Debian 12 / merged-/usr layout (what this project's machines have). */
export const MERGED_USR_LAYOUT: HostLayout = {
  symlinks: { bin: "usr/bin", sbin: "usr/sbin", lib: "usr/lib", lib64: "usr/lib64" },
  dirs: [],
};

const SYSTEM_TOP = ["bin", "sbin", "lib", "lib64", "lib32", "libx32"];

let cachedLayout: HostLayout | undefined;
/** Reads the host's layout of /bin, /lib, ... once (symlink into /usr, or a real directory). */
export function detectHostLayout(): HostLayout {
  if (cachedLayout) return cachedLayout;
  const layout: HostLayout = { symlinks: {}, dirs: [] };
  for (const name of SYSTEM_TOP) {
    try {
      const st = lstatSync(`/${name}`);
      if (st.isSymbolicLink()) layout.symlinks[name] = readlinkSync(`/${name}`);
      else if (st.isDirectory()) layout.dirs.push(`/${name}`);
    } catch {
      /* absent */
    }
  }
  cachedLayout = layout;
  return layout;
}

/**
 * /etc entries the agent's tools need: user names (passwd/group: no password hashes —
 * those are in shadow, never bound), loopback names (hosts), the dynamic loader's cache,
 * TLS roots, Debian alternatives (e.g. `editor`, `awk`), time zone. resolv.conf is left
 * out: there is no DNS inside.
 */
export const ETC_ENTRIES = [
  "/etc/passwd",
  "/etc/group",
  "/etc/hosts",
  "/etc/nsswitch.conf",
  "/etc/ld.so.cache",
  "/etc/ld.so.conf",
  "/etc/ld.so.conf.d",
  "/etc/ssl",
  "/etc/ca-certificates",
  "/etc/ca-certificates.conf",
  "/etc/alternatives",
  "/etc/localtime",
  "/etc/timezone",
];

/** Paths never mounted whole (a bind of one of these, or of `/`, is refused). */
const NEVER_WHOLE = ["/", "/root", "/home", "/run", "/var", "/var/run", "/etc", "/proc", "/sys", "/dev", "/boot", "/tmp", "/mnt", "/media", "/srv", "/opt"];

export class SandboxSpecError extends Error {}

/** The bridge script and the Node that runs it inside the sandbox. */
export interface BridgeRuntime {
  node: string;
  script: string;
}

export function defaultBridgeRuntime(): BridgeRuntime {
  // process.execPath is already the real path of the running Node (the project's Node 24).
  return { node: process.execPath, script: fileURLToPath(new URL("./bridge.mts", import.meta.url)) };
}

function norm(p: string): string {
  return resolve(p);
}

/** True when a and b are the same path or one contains the other. */
function overlaps(a: string, b: string): boolean {
  if (a === b) return true;
  const aa = a === "/" ? "/" : `${a}/`;
  const bb = b === "/" ? "/" : `${b}/`;
  return b.startsWith(aa) || a.startsWith(bb);
}

function inside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir === "/" ? "/" : `${dir}/`);
}

/**
 * Checks a spec against the rules (absolute paths; nothing that exposes a protected
 * path, `/`, or a whole /root, /home, /run, /etc...; cwd mounted). Throws SandboxSpecError
 * with a message that names the offending path.
 */
export function validateSandboxSpec(spec: SandboxSpec, layout: HostLayout = MERGED_USR_LAYOUT): void {
  const mounts: { path: string; what: string }[] = [
    { path: spec.workspace, what: "workspace" },
    ...spec.roBinds.map((p) => ({ path: p, what: "read-only bind" })),
    ...(spec.rwBinds ?? []).map((p) => ({ path: p, what: "read-write bind" })),
  ];
  if (spec.proxySocket) mounts.push({ path: spec.proxySocket, what: "proxy socket" });
  if (spec.homeDir) mounts.push({ path: spec.homeDir, what: "home dir" });
  for (const m of mounts) {
    if (!isAbsolute(m.path)) throw new SandboxSpecError(`${m.what} must be an absolute path: ${m.path}`);
    const p = norm(m.path);
    if (NEVER_WHOLE.includes(p) || /^\/home\/[^/]+$/.test(p)) {
      throw new SandboxSpecError(`refusing to mount ${p} (${m.what}) into the sandbox: it would expose a whole system or home directory`);
    }
  }
  const system = ["/usr", ...layout.dirs, ...ETC_ENTRIES];
  for (const raw of spec.protectedPaths) {
    if (!raw) continue;
    const prot = norm(raw);
    for (const m of [...mounts, ...system.map((p) => ({ path: p, what: "system mount" }))]) {
      if (overlaps(norm(m.path), prot)) {
        throw new SandboxSpecError(`refusing sandbox: ${m.what} ${norm(m.path)} would expose protected path ${prot}`);
      }
    }
  }
  if (spec.proxySocket !== undefined || spec.proxyPort !== undefined) {
    if (!spec.proxySocket || !spec.proxyPort) throw new SandboxSpecError("proxySocket and proxyPort go together");
    if (!Number.isInteger(spec.proxyPort) || spec.proxyPort < 1 || spec.proxyPort > 65535) {
      throw new SandboxSpecError(`proxyPort out of range: ${spec.proxyPort}`);
    }
  }
  const cwd = norm(spec.cwd ?? spec.workspace);
  const mounted = [spec.workspace, ...spec.roBinds, ...(spec.rwBinds ?? []), ...(spec.homeDir ? [spec.homeDir] : []), "/tmp"].map(norm);
  if (!mounted.some((m) => inside(cwd, m))) throw new SandboxSpecError(`working directory ${cwd} is not inside any path mounted in the sandbox`);
}

/** Namespaces and the read-only system allowlist: the part every sandbox shares. */
function systemArgs(layout: HostLayout): string[] {
  const a: string[] = [
    // Own user, PID, network, IPC, UTS, cgroup namespaces; killed with its parent; own
    // session (no TIOCSTI into the harness's terminal); no capabilities even as root.
    "--unshare-all",
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",
    "--ro-bind",
    "/usr",
    "/usr",
  ];
  for (const [name, target] of Object.entries(layout.symlinks)) a.push("--symlink", target, `/${name}`);
  for (const dir of layout.dirs) a.push("--ro-bind", dir, dir);
  for (const e of ETC_ENTRIES) a.push("--ro-bind-try", e, e);
  a.push("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp");
  return a;
}

/**
 * The complete bwrap argv (without the bwrap binary itself) to run `command args` in the
 * sandbox. Pure. Throws SandboxSpecError for a spec that breaks the rules.
 */
export function buildBwrapArgs(
  spec: SandboxSpec,
  command: string,
  args: string[],
  opts: { layout?: HostLayout; bridge?: BridgeRuntime } = {},
): string[] {
  const layout = opts.layout ?? MERGED_USR_LAYOUT;
  validateSandboxSpec(spec, layout);
  const a = systemArgs(layout);

  // Caller paths, parents before children so a nested bind is not hidden by its parent's.
  const binds: { kind: string; path: string }[] = [];
  for (const p of spec.roBinds) binds.push({ kind: "--ro-bind", path: norm(p) });
  for (const p of spec.rwBinds ?? []) binds.push({ kind: "--bind", path: norm(p) });
  binds.push({ kind: "--bind", path: norm(spec.workspace) });
  const home = spec.homeDir ? norm(spec.homeDir) : undefined;
  if (home && !(spec.rwBinds ?? []).map(norm).includes(home)) binds.push({ kind: "--tmpfs", path: home });
  let command2 = command;
  let args2 = args;
  if (spec.proxySocket && spec.proxyPort) {
    const bridge = opts.bridge ?? defaultBridgeRuntime();
    // A read-only bind does not stop connect() on a socket; it stops replacing it.
    binds.push({ kind: "--ro-bind", path: norm(spec.proxySocket) });
    binds.push({ kind: "--ro-bind", path: bridge.node });
    binds.push({ kind: "--ro-bind", path: bridge.script });
    command2 = bridge.node;
    args2 = ["--disable-warning=ExperimentalWarning", bridge.script, String(spec.proxyPort), norm(spec.proxySocket), command, ...args];
  }
  const depth = (p: string) => p.split("/").length;
  const seen = new Set<string>();
  for (const b of binds.map((b, i) => ({ ...b, i })).sort((x, y) => depth(x.path) - depth(y.path) || x.i - y.i)) {
    const key = `${b.kind} ${b.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (b.kind === "--tmpfs") a.push("--tmpfs", b.path);
    else a.push(b.kind, b.path, b.path);
  }
  // Everything not bound read-write (the root's own tmpfs, e.g. /etc or mount points) becomes read-only.
  a.push("--remount-ro", "/");
  a.push("--chdir", norm(spec.cwd ?? spec.workspace), "--", command2, ...args2);
  return a;
}

/** Real paths of the workspace and binds (a symlinked path must not smuggle in a protected one); protected paths are checked both as given and resolved. */
export async function resolveSandboxSpec(spec: SandboxSpec): Promise<SandboxSpec> {
  const real = async (p: string) => {
    try {
      return await realpath(p);
    } catch {
      return norm(p);
    }
  };
  const protectedPaths = new Set<string>();
  for (const p of spec.protectedPaths) {
    if (!p) continue;
    protectedPaths.add(norm(p));
    protectedPaths.add(await real(p));
  }
  return {
    ...spec,
    workspace: await real(spec.workspace),
    roBinds: await Promise.all(spec.roBinds.map(real)),
    rwBinds: spec.rwBinds ? await Promise.all(spec.rwBinds.map(real)) : undefined,
    proxySocket: spec.proxySocket ? await real(spec.proxySocket) : undefined,
    cwd: spec.cwd ? await real(spec.cwd) : undefined,
    protectedPaths: [...protectedPaths],
  };
}

/** Directories holding the project's Node (the `node_modules/node/bin/node` link and its real target), to bind for agents that run on it. */
export async function projectNodeBinds(projectRoot: string): Promise<string[]> {
  const out = new Set<string>([dirname(process.execPath)]);
  try {
    const real = await realpath(resolve(projectRoot, "node_modules/node/bin/node"));
    out.add(dirname(real));
  } catch {
    /* not installed that way */
  }
  return [...out];
}

/** The bwrap binary: `CTO_HARNESS_BWRAP` (tests point it at a broken path to simulate an unavailable sandbox), else `bwrap` on PATH. */
export function bwrapPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.CTO_HARNESS_BWRAP || "bwrap";
}

export type SandboxCheck = { ok: true } | { ok: false; reason: string; advice: string };

const checks = new Map<string, Promise<SandboxCheck>>();

/** Trial `bwrap <the same namespaces and mounts> -- true`, cached per bwrap path for the life of the process. */
export function checkSandbox(): Promise<SandboxCheck> {
  const bin = bwrapPath();
  let p = checks.get(bin);
  if (!p) {
    p = trialRun(bin);
    checks.set(bin, p);
  }
  return p;
}

/** Forgets cached results (tests). */
export function resetSandboxCheck(): void {
  checks.clear();
}

function trialRun(bin: string): Promise<SandboxCheck> {
  const args = [...systemArgs(detectHostLayout()), "--chdir", "/tmp", "--", "/usr/bin/true"];
  return new Promise((done) => {
    let stderr = "";
    let child;
    try {
      child = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"], env: { PATH: "/usr/bin:/bin" } });
    } catch (e) {
      done(classifyFailure(bin, (e as Error).message));
      return;
    }
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.stderr!.on("data", (c: Buffer) => {
      if (stderr.length < 2000) stderr += c.toString();
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      done(classifyFailure(bin, e.message));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) done({ ok: true });
      else done(classifyFailure(bin, stderr.trim() || `exited with ${code ?? signal}`));
    });
  });
}

/** Turns what bwrap (or spawn) said into a reason and the advice a user can act on. Pure. */
export function classifyFailure(bin: string, message: string): { ok: false; reason: string; advice: string } {
  const none = "Or run without isolation knowingly with `--isolation none` (the report records `isolation: none`).";
  if (/ENOENT|not found|No such file/i.test(message) && !/namespace/i.test(message)) {
    return {
      ok: false,
      reason: `bubblewrap not found: ${bin} (${message})`,
      advice: `Install bubblewrap (Debian/Ubuntu: \`apt-get install bubblewrap\`), or point CTO_HARNESS_BWRAP at a working bwrap binary. ${none}`,
    };
  }
  if (/EACCES|permission denied/i.test(message) && !/namespace/i.test(message)) {
    return { ok: false, reason: `bubblewrap cannot be executed: ${bin} (${message})`, advice: `Make ${bin} executable, or reinstall bubblewrap. ${none}` };
  }
  if (/namespace|unshare|Operation not permitted|setting up uid map|No permissions/i.test(message)) {
    return {
      ok: false,
      reason: `bubblewrap cannot create namespaces here: ${message}`,
      advice:
        "Enable unprivileged user namespaces (`sysctl -w kernel.unprivileged_userns_clone=1`; on Ubuntu 24.04+ also " +
        "`sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` or an AppArmor profile for bwrap). In Docker, the default " +
        `seccomp profile blocks user namespaces: run the container with a profile that allows them, or as root. ${none}`,
    };
  }
  return { ok: false, reason: `bubblewrap trial run failed: ${message}`, advice: `Run \`${bin} --ro-bind /usr /usr --unshare-all -- /usr/bin/true\` to see the error. ${none}` };
}

/** Text of `backend/sandbox-unavailable.txt`. */
export function renderSandboxMarker(reason: string, advice: string): string {
  return [
    "sandbox unavailable",
    "",
    `Found: ${reason}`,
    "",
    "Expected: a trial run of bubblewrap (`bwrap ... -- true`) with its own PID and network namespaces succeeds,",
    "so the agent can be started isolated (read-only system, its workspace only, no network except the run's proxy).",
    "The run was blocked before the agent started: the harness never falls back to running an agent unsandboxed.",
    "",
    `What to do: ${advice}`,
    "",
  ].join("\n");
}

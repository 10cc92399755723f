// What a sandbox is asked to be (SandboxSpec, mounts, hidden paths), the host's layout, and
// the validation every spec passes before bubblewrap is started: nothing system-wide bound
// whole, nothing protected exposed, no mount over a system directory. Pure but for the one
// look at the host's layout; also the system binds every sandbox gets and the bwrap binary.
import { lstatSync, readlinkSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
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
  /**
   * Directories the agent must not read (the runs directory, the fixture, the built-in
   * fixtures, the expected-tests cache). Where a bind would contain one, an empty read-only
   * tmpfs is mounted over it (the run's own binds inside it are mounted again on top); a
   * bind that would itself lie inside one is refused. See `decideMasks`.
   */
  hidden?: HiddenPath[];
  /** Set by `resolveSandboxSpec`: hidden paths that do not exist, or are not directories (neither can be masked). */
  hiddenState?: Record<string, "missing" | "not a directory">;
  /**
   * Binds at another path inside than outside (a Harbor task's view: the workspace at its
   * WORKDIR, /tests, /logs/verifier, /solution). Sources are the harness's own directories
   * (scratch copies, the run's logs); destinations may not cover a system mount.
   */
  mounts?: SandboxMount[];
  /** Keep the host's network (a Harbor verifier whose user opted in to downloads; never an agent). */
  shareNetwork?: boolean;
}

/** A bind whose path inside (`dest`) differs from the host path (`src`). */
export interface SandboxMount {
  src: string;
  dest: string;
  readOnly: boolean;
}

/** A directory the agent must not read. */
export interface HiddenPath {
  path: string;
  /** What it is, for the report, the trace and a refusal's reason ("the runs directory"). */
  what: string;
  /**
   * true (default): nothing inside it may be bound except the run's own paths (workspace,
   * read-write binds, HOME, the proxy socket): any other bind inside it is refused.
   * false: it is only masked where a bind contains it; binds inside it are fine (e.g. the
   * temporary directory, whose scratch trees are secret but which also holds the agent's dir).
   */
  wholly?: boolean;
}

/** A path the sandbox mounts, as the mask decision sees it. */
export interface MountView {
  path: string;
  what: string;
  /** `host`: shows host content (a bind); `empty`: a fresh tmpfs (/tmp, HOME, a mask). */
  source: "host" | "empty";
  /** The run's own paths (workspace, read-write binds, HOME, proxy socket, bridge): allowed inside a hidden path. */
  own: boolean;
}

export interface SandboxMask {
  path: string;
  what: string;
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

export class SandboxSpecError extends Error {
  /** What the user can do about it (shown in backend/sandbox-unavailable.txt). */
  readonly advice?: string;
  constructor(message: string, advice?: string) {
    super(message);
    this.advice = advice;
  }
}

/** The bridge script and the Node that runs it inside the sandbox. */
export interface BridgeRuntime {
  node: string;
  script: string;
}

export function defaultBridgeRuntime(): BridgeRuntime {
  // process.execPath is already the real path of the running Node (the project's Node 24).
  return { node: process.execPath, script: fileURLToPath(new URL("./bridge.mts", import.meta.url)) };
}

export function norm(p: string): string {
  return resolve(p);
}

/** True when a and b are the same path or one contains the other. */
export function overlaps(a: string, b: string): boolean {
  if (a === b) return true;
  const aa = a === "/" ? "/" : `${a}/`;
  const bb = b === "/" ? "/" : `${b}/`;
  return b.startsWith(aa) || a.startsWith(bb);
}

export function inside(path: string, dir: string): boolean {
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
  validateMounts(spec, layout);
  const cwd = norm(spec.cwd ?? spec.workspace);
  const mounted = [spec.workspace, ...spec.roBinds, ...(spec.rwBinds ?? []), ...(spec.homeDir ? [spec.homeDir] : []), "/tmp", ...(spec.mounts ?? []).map((m) => m.dest)].map(norm);
  if (!mounted.some((m) => inside(cwd, m))) throw new SandboxSpecError(`working directory ${cwd} is not inside any path mounted in the sandbox`);
}

/** Paths a mount's destination may not be, contain or lie inside: the system allowlist and the kernel's own. */
const SYSTEM_DESTS = ["/usr", "/etc", "/proc", "/dev", "/sys", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"];

function validateMounts(spec: SandboxSpec, layout: HostLayout): void {
  for (const m of spec.mounts ?? []) {
    if (!isAbsolute(m.src) || !isAbsolute(m.dest)) throw new SandboxSpecError(`a mount needs absolute paths: ${m.src} -> ${m.dest}`);
    const dest = norm(m.dest);
    if (dest === "/" || [...SYSTEM_DESTS, ...layout.dirs].some((sys) => overlaps(dest, sys))) {
      throw new SandboxSpecError(`refusing to mount at ${dest}: it would cover a system directory of the sandbox (a task that needs files there needs a container)`);
    }
    // A destination over or inside a same-path bind (the workspace, the agent's HOME, a
    // runtime) would make bwrap create mount points in that host directory, or hide it.
    const samePath = [spec.workspace, ...spec.roBinds, ...(spec.rwBinds ?? []), ...(spec.homeDir ? [spec.homeDir] : []), ...(spec.proxySocket ? [spec.proxySocket] : [])];
    const clash = samePath.find((p) => overlaps(dest, norm(p)));
    if (clash) throw new SandboxSpecError(`refusing to mount at ${dest}: it overlaps ${norm(clash)}, which the sandbox binds at its own path`);
    if (NEVER_WHOLE.includes(norm(m.src))) throw new SandboxSpecError(`refusing to mount ${norm(m.src)} at ${dest}: it would expose a whole system directory`);
    for (const raw of spec.protectedPaths) {
      if (raw && overlaps(norm(m.src), norm(raw))) throw new SandboxSpecError(`refusing sandbox: mount ${norm(m.src)} would expose protected path ${norm(raw)}`);
    }
  }
}

/** The read-only system binds of the host layout (bwrap arguments). */
export function systemArgs(layout: HostLayout): string[] {
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

/** The bwrap binary: `CTO_HARNESS_BWRAP` (tests point it at a broken path to simulate an unavailable sandbox), else `bwrap` on PATH. */
export function bwrapPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.CTO_HARNESS_BWRAP || "bwrap";
}

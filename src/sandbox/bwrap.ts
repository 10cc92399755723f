// bubblewrap isolation for agents (DESIGN §10). The sandbox sees an allowlist of
// read-only system paths, the workspace read-write at the same path as outside (so
// paths in logs, patches and traces match), an empty /tmp and HOME, its own PID and
// network namespaces, and no network except the run's proxy bridged in through a Unix
// socket. Nothing secret is put in bwrap's argv: the environment is inherited from the
// spawn env, which the caller builds from an allowlist (env.ts).
// See docs/isolation.md and shared/reference/sandbox-and-secrets.md.
import { spawn } from "node:child_process";
import { lstatSync, readlinkSync } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
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

const depthOf = (p: string) => (p === "/" ? 0 : p.split("/").length - 1);

const HIDDEN_ADVICE =
  "Keep what the agent must not read out of every path bound into its sandbox: put the runs directory (--runs-dir, " +
  "CTO_HARNESS_RUNS_DIR), fixture directories and the cache (CTO_HARNESS_CACHE_DIR) outside the agent's install directory " +
  "and CTO_HARNESS_CASE_RO_PATHS, and the agent's install and CTO_HARNESS_CASE_RO_PATHS entries outside them. The agent was not started.";

/**
 * Which hidden paths must be masked, given everything the sandbox mounts. Pure; throws
 * SandboxSpecError (with advice) when a hidden path cannot be kept out of reach:
 *  - a host bind that IS a hidden path, or a hidden path's parent (`/usr`... as a bind
 *    inside it), or — for a `wholly` hidden path — any host bind inside it that is not the
 *    run's own (e.g. the agent's install dir inside the runs directory);
 *  - a hidden path that needs a mask but does not exist (it could appear while the agent
 *    runs) or is not a directory.
 * A hidden path needs a mask when the deepest mount containing it shows host content (a
 * bind); under an empty mount (the sandbox's /tmp, HOME, another mask) or under nothing it is
 * already out of reach. Masks are returned parents first.
 */
export function decideMasks(mounts: MountView[], hidden: HiddenPath[], state: Record<string, "missing" | "not a directory"> = {}): SandboxMask[] {
  const byPath = new Map<string, { path: string; what: string; wholly: boolean }>();
  for (const h of hidden) {
    if (!h.path) continue;
    if (!isAbsolute(h.path)) throw new SandboxSpecError(`hidden path must be an absolute path: ${h.path}`);
    const p = norm(h.path);
    const prev = byPath.get(p);
    if (prev) prev.wholly ||= h.wholly !== false;
    else byPath.set(p, { path: p, what: h.what, wholly: h.wholly !== false });
  }
  const sorted = [...byPath.values()].sort((a, b) => depthOf(a.path) - depthOf(b.path) || (a.path < b.path ? -1 : 1));
  const ms = mounts.map((m) => ({ ...m, path: norm(m.path) }));
  const masks: SandboxMask[] = [];
  for (const h of sorted) {
    for (const m of ms) {
      if (m.source !== "host") continue;
      if (m.path === h.path) {
        throw new SandboxSpecError(`refusing sandbox: the ${m.what} ${m.path} is ${h.what}, which the agent must not read`, HIDDEN_ADVICE);
      }
      if (h.wholly && !m.own && m.path !== h.path && inside(m.path, h.path)) {
        throw new SandboxSpecError(`refusing sandbox: the ${m.what} ${m.path} lies inside ${h.what} ${h.path}, which the agent must not read`, HIDDEN_ADVICE);
      }
    }
    // The deepest mount strictly containing h decides what is seen there.
    let deepest: { path: string; source: "host" | "empty" } | undefined;
    for (const m of [...ms, ...masks.map((k) => ({ path: k.path, source: "empty" as const }))]) {
      if (m.path === h.path || !inside(h.path, m.path)) continue;
      if (!deepest || depthOf(m.path) > depthOf(deepest.path)) deepest = m;
    }
    if (deepest?.source !== "host") continue;
    const st = state[h.path];
    if (st === "missing") {
      throw new SandboxSpecError(
        `refusing sandbox: ${h.what} ${h.path} does not exist yet but lies inside the bound path ${deepest.path}: it could appear while the agent runs, unmasked`,
        `Create ${h.path} before the run, or move it out of ${deepest.path}. ${HIDDEN_ADVICE}`,
      );
    }
    if (st === "not a directory") {
      throw new SandboxSpecError(`refusing sandbox: ${h.what} ${h.path} lies inside the bound path ${deepest.path} and is not a directory (it cannot be masked)`, HIDDEN_ADVICE);
    }
    masks.push({ path: h.path, what: h.what });
  }
  return masks;
}

/** Everything a spec mounts, as `decideMasks` sees it (system mounts included). */
export function sandboxMounts(spec: SandboxSpec, layout: HostLayout = MERGED_USR_LAYOUT, bridge?: BridgeRuntime): MountView[] {
  const v: MountView[] = [
    { path: "/usr", what: "system mount", source: "host", own: false },
    ...layout.dirs.map((d) => ({ path: d, what: "system mount", source: "host" as const, own: false })),
    ...ETC_ENTRIES.map((e) => ({ path: e, what: "system mount", source: "host" as const, own: false })),
    { path: "/tmp", what: "sandbox /tmp", source: "empty", own: true },
    { path: spec.workspace, what: "workspace", source: "host", own: true },
    ...spec.roBinds.map((p) => ({ path: p, what: "read-only bind", source: "host" as const, own: false })),
    ...(spec.rwBinds ?? []).map((p) => ({ path: p, what: "read-write bind", source: "host" as const, own: true })),
  ];
  for (const m of spec.mounts ?? []) v.push({ path: m.dest, what: `mount at ${m.dest}`, source: "host", own: true });
  const rw = (spec.rwBinds ?? []).map(norm);
  if (spec.homeDir && !rw.includes(norm(spec.homeDir))) v.push({ path: spec.homeDir, what: "home dir", source: "empty", own: true });
  if (spec.proxySocket && spec.proxyPort) {
    const b = bridge ?? defaultBridgeRuntime();
    v.push({ path: spec.proxySocket, what: "proxy socket", source: "host", own: true });
    v.push({ path: b.node, what: "bridge runtime", source: "host", own: true });
    v.push({ path: b.script, what: "bridge script", source: "host", own: true });
  }
  return v;
}

/** The masks a spec gets (empty when it hides nothing, or nothing hidden is in reach). Pure; throws SandboxSpecError. */
export function sandboxMasks(spec: SandboxSpec, opts: { layout?: HostLayout; bridge?: BridgeRuntime } = {}): SandboxMask[] {
  if (!spec.hidden?.length) return [];
  return decideMasks(sandboxMounts(spec, opts.layout ?? MERGED_USR_LAYOUT, opts.bridge), spec.hidden, spec.hiddenState);
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
  const masks = sandboxMasks(spec, opts);
  const a = systemArgs(layout);
  if (spec.shareNetwork) {
    if (spec.proxySocket) throw new SandboxSpecError("shareNetwork is for a verifier that opted in to downloads, never for an agent");
    a.push("--share-net", "--ro-bind-try", "/etc/resolv.conf", "/etc/resolv.conf");
  }

  // Caller paths and masks, parents before children: a nested bind is not hidden by its
  // parent's, a mask (an empty tmpfs over a hidden directory) comes after the bind that
  // contains it, and the run's own paths inside a masked directory (the workspace and
  // agent-home inside the runs directory) are mounted again on top of the mask.
  const binds: { kind: string; path: string; src?: string }[] = [];
  for (const m of masks) binds.push({ kind: "--tmpfs", path: m.path });
  for (const m of spec.mounts ?? []) binds.push({ kind: m.readOnly ? "--ro-bind" : "--bind", path: norm(m.dest), src: norm(m.src) });
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
    else a.push(b.kind, b.src ?? b.path, b.path);
  }
  // Masks become read-only once everything inside them is mounted (not recursive: the
  // workspace inside stays writable), then everything not bound read-write (the root's own
  // tmpfs, e.g. /etc or mount points) becomes read-only.
  for (const m of masks) a.push("--remount-ro", m.path);
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
    // A cwd inside a mount's destination is a path of the sandbox, not of the host: never resolved here.
    cwd: spec.cwd ? ((spec.mounts ?? []).some((m) => inside(norm(spec.cwd!), norm(m.dest))) ? norm(spec.cwd) : await real(spec.cwd)) : undefined,
    mounts: spec.mounts ? await Promise.all(spec.mounts.map(async (m) => ({ ...m, src: await real(m.src) }))) : undefined,
    protectedPaths: [...protectedPaths],
    ...(spec.hidden ? await resolveHidden(spec.hidden) : {}),
  };
}

async function realMissing(p: string): Promise<string> {
  const rest: string[] = [];
  let cur = p;
  while (cur !== "/") {
    rest.unshift(basename(cur));
    cur = dirname(cur);
    try {
      return join(await realpath(cur), ...rest);
    } catch {
      /* keep walking up */
    }
  }
  return p;
}

/** Real paths of hidden directories, and which of them cannot be masked (missing, not a directory). */
async function resolveHidden(hidden: HiddenPath[]): Promise<Pick<SandboxSpec, "hidden" | "hiddenState">> {
  const out: HiddenPath[] = [];
  const state: Record<string, "missing" | "not a directory"> = {};
  for (const h of hidden) {
    if (!h.path) continue;
    let p: string;
    try {
      p = await realpath(h.path);
    } catch {
      // Not there (yet): the real path of its nearest existing ancestor, plus the rest.
      p = await realMissing(norm(h.path));
      state[p] = "missing";
      out.push({ ...h, path: p });
      continue;
    }
    try {
      if (!(await stat(p)).isDirectory()) state[p] = "not a directory";
    } catch {
      state[p] = "missing";
    }
    out.push({ ...h, path: p });
  }
  return { hidden: out, hiddenState: state };
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
export function renderSandboxMarker(reason: string, advice: string, refused = false): string {
  if (refused) {
    return [
      "sandbox unavailable",
      "",
      `Found: ${reason}`,
      "",
      "Expected: a sandbox specification that mounts nothing the agent must not see: no protected path, no other run,",
      "no fixture's solution, tests or held-out tests, no built-in fixture, no expected-tests cache (docs/isolation.md).",
      "The run was blocked before the agent started: the harness never starts an agent with those in reach.",
      "",
      `What to do: ${advice}`,
      "",
    ].join("\n");
  }
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

// bubblewrap isolation for agents (DESIGN §10). The sandbox sees an allowlist of
// read-only system paths, the workspace read-write at the same path as outside (so
// paths in logs, patches and traces match), an empty /tmp and HOME, its own PID and
// network namespaces, and no network except the run's proxy bridged in through a Unix
// socket. Nothing secret is put in bwrap's argv: the environment is inherited from the
// spawn env, which the caller builds from an allowlist (env.ts).
// See docs/isolation.md and shared/reference/sandbox-and-secrets.md.
import { spawn } from "node:child_process";
import { realpath, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { MERGED_USR_LAYOUT, SandboxSpecError, defaultBridgeRuntime, inside, norm, systemArgs, validateSandboxSpec, type BridgeRuntime, type HiddenPath, type HostLayout, type SandboxSpec } from "./spec.ts";
import { sandboxMasks } from "./masks.ts";

export * from "./spec.ts";
export * from "./masks.ts";
export * from "./check.ts";

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



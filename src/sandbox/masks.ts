// Which hidden paths (runs directory, fixtures, caches, keys) must be masked with an empty
// read-only tmpfs, given everything the sandbox mounts — or why the run must be refused. Pure.
import { isAbsolute } from "node:path";
import { ETC_ENTRIES, MERGED_USR_LAYOUT, inside, norm, SandboxSpecError, defaultBridgeRuntime, type BridgeRuntime, type HiddenPath, type HostLayout, type MountView, type SandboxMask, type SandboxSpec } from "./spec.ts";

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

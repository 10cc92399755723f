// `cto-harness view`: a read-only web app over a runs directory, on loopback only. Every
// request is a GET; every path component is checked (src/catalog/safe-read.ts); every string
// from a bundle is escaped (html.ts); the Content-Security-Policy allows no script but our
// own nonce'd one and no external load at all; and the Host header must name this loopback
// server, so a web page elsewhere cannot read the evidence through DNS rebinding.
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { readCatalog } from "../catalog/catalog.ts";
import { isSafeName, resolveInside } from "../catalog/safe-read.ts";
import { compareSides, type Comparison, type Outcome } from "../compare/compare.ts";
import { loopOutcomes, looseOutcomes } from "../compare/load.ts";
import { html, hrefOf } from "./html.ts";
import { page } from "./layout.ts";
import { FILTER_KEYS, indexBody, type Filters } from "./pages/index.ts";
import { runBody } from "./pages/run.ts";
import { loopBody } from "./pages/loop.ts";
import { compareBody, compareForm } from "./pages/compare.ts";
import { readRunData } from "./run-data.ts";
import { readLoopData } from "./loop-data.ts";

export interface Viewer {
  url: string;
  port: number;
  close(): Promise<void>;
}

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function csp(nonce: string): string {
  return `default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`;
}

function send(res: ServerResponse, status: number, type: string, body: string, nonce = "none"): void {
  res.writeHead(status, {
    "content-type": type,
    "content-security-policy": csp(nonce),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "cross-origin-resource-policy": "same-origin",
  });
  res.end(body);
}

/** Path components, percent-decoded; a malformed escape is a 400. */
function segments(pathname: string): string[] {
  try {
    return pathname.split("/").filter(Boolean).map((s) => decodeURIComponent(s));
  } catch {
    throw new HttpError(400, "malformed URL escape");
  }
}

function checkAddress(parts: string[]): string[] {
  if (parts.length === 0 || parts.length > 3) throw new HttpError(404, "no such run");
  for (const p of parts) if (!isSafeName(p)) throw new HttpError(404, "no such run");
  return parts;
}

/** Changes whenever a direct entry of the directory is added, grows or is rewritten. */
async function fingerprint(root: string, parts: string[]): Promise<string> {
  const dir = parts.length ? await resolveInside(root, parts, "dir").catch(() => null) : root;
  if (!dir) throw new HttpError(404, "no such directory");
  const h = createHash("sha256");
  for (const name of (await readdir(dir).catch(() => [])).sort()) {
    const st = await stat(join(dir, name)).catch(() => null);
    h.update(`${name}\0${st?.size ?? -1}\0${st?.mtimeMs ?? -1}\n`);
  }
  return h.digest("hex").slice(0, 16);
}

/** The compare choice for the runs directly in the runs directory (not in a loop); not a valid loop name. */
export const LOOSE_RUNS = "(runs outside loops)";

async function sideOf(root: string, id: string): Promise<Outcome[]> {
  if (id !== LOOSE_RUNS) return loopOutcomes(root, [id]);
  return looseOutcomes(root, (await readCatalog(root)).runs);
}

async function compareIds(root: string, choices: string[], a: string, b: string): Promise<Comparison> {
  for (const id of [a, b]) if (!choices.includes(id)) throw new HttpError(404, `no loop ${id} in this runs directory (give ?a=LOOP&b=LOOP)`);
  return compareSides({ label: a, outcomes: await sideOf(root, a) }, { label: b, outcomes: await sideOf(root, b) });
}

interface Ctx {
  root: string;
  url: URL;
  nonce: string;
}

type Route = (ctx: Ctx, parts: string[]) => Promise<{ status?: number; type?: string; body: string }>;

const routes: Record<string, Route> = {
  "": async ({ root, url, nonce }) => {
    const cat = await readCatalog(root);
    const f: Filters = {};
    for (const k of FILTER_KEYS) {
      const v = url.searchParams.get(k);
      if (v) f[k] = v;
    }
    // Live while a loop runs or a run is being written (its directory has no report.json yet).
    const busy = cat.loops.some((l) => !l.finished) || cat.runs.some((r) => r.in_progress);
    const live = busy ? "/api/fingerprint" : undefined;
    return { body: page({ title: "runs", nonce, liveUrl: live }, indexBody(root, cat, f)) };
  },
  run: async ({ root, nonce }, parts) => {
    const address = checkAddress(parts);
    await resolveInside(root, address, "dir").catch(() => {
      throw new HttpError(404, `no run ${address.join("/")} in this runs directory`);
    });
    const data = await readRunData(root, address);
    const live = data.entry.report ? undefined : hrefOf("api", "fingerprint", ...address);
    return { body: page({ title: address.join("/"), nonce, liveUrl: live }, runBody(data)) };
  },
  loop: async ({ root, nonce }, parts) => {
    if (parts.length !== 1 || !isSafeName(parts[0]!)) throw new HttpError(404, "no such loop");
    const d = await readLoopData(root, parts[0]!);
    if (!d) throw new HttpError(404, `no loop ${parts[0]} in this runs directory`);
    const others = (await readCatalog(root)).loops.map((l) => l.loop_id).filter((l) => l !== parts[0]);
    return { body: page({ title: `loop ${parts[0]}`, nonce, liveUrl: d.entry.finished ? undefined : hrefOf("api", "fingerprint", parts[0]!) }, loopBody(d, others)) };
  },
  compare: async ({ root, url, nonce }) => {
    const cat = await readCatalog(root);
    const choices = [...cat.loops.map((l) => l.loop_id), ...(cat.runs.length ? [LOOSE_RUNS] : [])];
    const a = url.searchParams.get("a");
    const b = url.searchParams.get("b");
    const form = compareForm(choices, a, b ?? choices.find((l) => l !== a) ?? null);
    if (!a || !b) return { body: page({ title: "compare", nonce }, html`<h1>Compare two loops</h1>${choices.length < 2 ? html`<p class="muted">This runs directory has ${choices.length} set(s) of runs; comparing needs two.</p>` : ""}${form}`) };
    const c = await compareIds(root, choices, a, b);
    return { body: page({ title: `compare ${a} / ${b}`, nonce }, html`<h1>Compare: A ${a} vs B ${b}</h1>${form}${compareBody(c, a, b, LOOSE_RUNS)}`) };
  },
  api: async ({ root, url }, parts) => {
    if (parts[0] === "fingerprint") {
      const rest = parts.slice(1);
      for (const p of rest) if (!isSafeName(p)) throw new HttpError(404, "no such directory");
      return { type: "application/json", body: JSON.stringify({ fingerprint: await fingerprint(root, rest) }) };
    }
    if (parts[0] === "compare" && parts.length === 1) {
      const cat = await readCatalog(root);
      const choices = [...cat.loops.map((l) => l.loop_id), ...(cat.runs.length ? [LOOSE_RUNS] : [])];
      const c = await compareIds(root, choices, url.searchParams.get("a") ?? "", url.searchParams.get("b") ?? "");
      return { type: "application/json", body: JSON.stringify(c) };
    }
    throw new HttpError(404, "no such API");
  },
};

async function handle(root: string, port: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const nonce = randomBytes(16).toString("base64");
  const host = req.headers.host ?? "";
  if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) return send(res, 421, "text/plain; charset=utf-8", "this viewer answers only to http://127.0.0.1 on its own port\n");
  if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, "text/plain; charset=utf-8", "read-only: GET only\n");
  const url = new URL(req.url ?? "/", `http://${host}`);
  try {
    const [first = "", ...rest] = segments(url.pathname);
    const route = routes[first];
    if (!route) throw new HttpError(404, "no such page");
    const out = await route({ root, url, nonce }, rest);
    send(res, out.status ?? 200, out.type ?? "text/html; charset=utf-8", out.body, nonce);
  } catch (e) {
    const status = e instanceof HttpError ? e.status : 500;
    const message = e instanceof HttpError ? e.message : `viewer error: ${(e as Error).message}`;
    if (url.pathname.startsWith("/api/")) return send(res, status, "application/json", JSON.stringify({ error: message }));
    send(res, status, "text/html; charset=utf-8", page({ title: String(status), nonce }, html`<h1>${status}</h1><p>${message}</p><p><a href="/">back to the runs</a></p>`), nonce);
  }
}

/** Starts the viewer on 127.0.0.1 (never another interface); port 0 picks a free one. */
export async function startViewer(opts: { root: string; port: number }): Promise<Viewer> {
  let port = opts.port;
  const server: Server = createServer((req, res) => {
    handle(opts.root, port, req, res).catch(() => {
      if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", "viewer error\n");
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => resolve());
  });
  port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

// Probe once per serving setup, not once per run: a loop of many runs against the same
// endpoint re-uses the last usable probe result while a cheap GET /models shows the same
// fingerprint (server kind, served models, context length). Blocking results are never
// re-used (the user may have fixed the server's flags without changing what /models shows),
// and a run that hits a shape error calls `invalidate` so the next run probes again.
import {
  discoverServer,
  fingerprintOf,
  fingerprintOfServer,
  probeEndpoint,
  type ProbeOptions,
  type ProbeResult,
  type ProbeTarget,
} from "./probe.ts";

export interface CachedProbe {
  result: ProbeResult;
  fingerprint: string;
  /** Budget and model the result was obtained with; a different ask is a different probe. */
  budget: number;
  model: string;
}

export interface ProbeCacheDeps {
  probe?: typeof probeEndpoint;
  discover?: typeof discoverServer;
}

export class ProbeCache {
  #entries = new Map<string, CachedProbe>();
  #inflight = new Map<string, Promise<ProbeResult>>();
  #probe: typeof probeEndpoint;
  #discover: typeof discoverServer;

  constructor(deps: ProbeCacheDeps = {}) {
    this.#probe = deps.probe ?? probeEndpoint;
    this.#discover = deps.discover ?? discoverServer;
  }

  get(provider: string): CachedProbe | undefined {
    return this.#entries.get(provider);
  }

  /** Stores a result; only allow/warn results are kept. */
  set(provider: string, result: ProbeResult): void {
    if (result.verdict === "block") {
      this.#entries.delete(provider);
      return;
    }
    this.#entries.set(provider, { result, fingerprint: fingerprintOf(result), budget: result.budget, model: result.model });
  }

  invalidate(provider: string): void {
    this.#entries.delete(provider);
  }

  /**
   * The cached result when /models still shows the same setup, else a fresh probe.
   * Concurrent callers for one provider share one probe.
   */
  async probe(provider: string, target: ProbeTarget, opts: ProbeOptions = {}): Promise<{ result: ProbeResult; cached: boolean }> {
    const budget = opts.budget ?? 1024;
    const cached = this.#entries.get(provider);
    if (cached && cached.budget === budget && cached.model === target.model) {
      const facts = await this.#discover(target, { signal: opts.signal, timeoutMs: Math.min(opts.timeoutMs ?? 15_000, 15_000) });
      if (fingerprintOfServer(facts) === cached.fingerprint) return { result: cached.result, cached: true };
      this.#entries.delete(provider);
    }
    const running = this.#inflight.get(provider);
    if (running) return { result: await running, cached: true };
    const fresh = this.#probe(target, opts);
    this.#inflight.set(provider, fresh);
    try {
      const result = await fresh;
      this.set(provider, result);
      return { result, cached: false };
    } finally {
      this.#inflight.delete(provider);
    }
  }
}

// Signed evidence: what signing adds to a run and what checking a signature adds to accepting
// a worker's bundle. One real bundle (fake-oracle on the simulator); medians of 20 rounds.
// No target of its own: these are parts of the queue's dispatch overhead budget (≤ 50 ms a run).
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { runOnce } from "../src/run/lifecycle.ts";
import { initKeyPair, loadSigningKey, loadTrustedKeys, signBundle, verifyBundleAttestation, verifySignedBundle } from "../src/attest/index.ts";

const ROUNDS = 20;

async function median(fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return Math.round(times[Math.floor(times.length / 2)]! * 100) / 100;
}

export async function bench(): Promise<object> {
  const dir = mkdtempSync(join(tmpdir(), "cto-bench-attest-"));
  try {
    const keyPath = join(dir, "bench.key");
    initKeyPair(keyPath);
    const { runDir } = await runOnce({
      fixture: "r1-string-slugify", engine: "fake-oracle", provider: "sim", model: "qwen3.6-35b-a3b",
      isolation: "none", budget: 1024, runsDir: join(dir, "runs"), env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    const key = await loadSigningKey(keyPath);
    const trusted = await loadTrustedKeys(`${keyPath}.pub`);
    const load = await median(() => loadSigningKey(keyPath));
    // signBundle re-hashes the bundle first (it refuses a bundle that changed since its manifest).
    const sign = await median(() => signBundle(runDir, key));
    const signature = await median(() => verifyBundleAttestation(runDir, trusted));
    const full = await median(() => verifySignedBundle(runDir, trusted));
    return {
      rounds: ROUNDS,
      load_key_ms_median: load,
      sign_bundle_ms_median: sign,
      verify_attestation_ms_median: signature,
      verify_signed_bundle_ms_median: full,
      load_average_1m: loadavg()[0],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// `sot check` over 1,000 generated bundles (each with its baseline bundle), target < 5 s:
// finding, verifying (schema + manifest hashes + baseline) and judging every line.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readFile } from "node:fs/promises";
import { sotCheck } from "../src/sot/run-check.ts";
import type { Report } from "../src/evidence/report.ts";
import { makeReport, missingConfigReport, passReport, writeBundle } from "../test/data/make-bundle.ts";

const N = Number(process.env.BENCH_SOT_BUNDLES ?? 1000);
const SEED = new URL("../test/data/seed-sot.md", import.meta.url).pathname;

export async function bench(): Promise<object> {
  const dir = await mkdtemp(join(tmpdir(), "bench-sot-"));
  try {
    const g0 = performance.now();
    for (let i = 0; i < N; i++) {
      const id = `run-${String(i).padStart(5, "0")}`;
      const kind = i % 10;
      const report =
        kind === 0 ? missingConfigReport(id) : kind === 1 ? passReport(id, { endpoint_kind: "simulated" }) : makeReport({ run_id: id, endpoint_kind: i % 2 ? "real" : "simulated" });
      await writeBundle(join(dir, `loop-${Math.floor(i / 100)}`, id), report);
    }
    const generateMs = performance.now() - g0;
    const t0 = performance.now();
    const r = await sotCheck(SEED, dir, { env: {} });
    const checkMs = performance.now() - t0;
    // The same check with a trusting stand-in for verifyBundle: what sot itself costs.
    const trusting = async (d: string) => ({ ok: true, problems: [], report: JSON.parse(await readFile(join(d, "report.json"), "utf8")) as Report });
    const t1 = performance.now();
    await sotCheck(SEED, dir, { env: {}, verify: trusting });
    const sotOnlyMs = performance.now() - t1;
    return {
      bundles: N,
      sot_without_verify_ms: Math.round(sotOnlyMs),
      verify_share_ms: Math.round(checkMs - sotOnlyMs),
      generate_ms: Math.round(generateMs),
      check_ms: Math.round(checkMs),
      per_bundle_ms: +(checkMs / N).toFixed(3),
      target_ms: 5000,
      within_target: checkMs < 5000,
      verified: r.bundles.verified,
      rejected: r.bundles.rejected.length,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

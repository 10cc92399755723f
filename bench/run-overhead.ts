// Issue targets: harness overhead of a fake-noop run (excluding the fixture's own test
// time) ≤ 300 ms median; bundle writing memory flat with 100 MB of agent output.
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runOnce } from "../src/run/lifecycle.ts";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function bench(): Promise<object> {
  const runsDir = mkdtempSync(join(tmpdir(), "cto-bench-runs-"));
  const overheads: number[] = [];
  const totals: number[] = [];
  const n = 15;
  for (let i = 0; i < n; i++) {
    const { report } = await runOnce({
      fixture: "r1-string-slugify",
      engine: "fake-noop",
      provider: "sim",
      model: "qwen3.6-35b-a3b",
      runsDir,
      isolation: "none",
      budget: 1024,
      env: { PATH: process.env.PATH },
    });
    totals.push(report.timings.total_ms!);
    overheads.push(report.timings.total_ms! - (report.timings.tests_ms ?? 0));
  }
  // Agent output through the case engine: RSS growth must not scale with the output size.
  const admission = join(runsDir, "admission.yaml");
  writeFileSync(admission, "admitted:\n  - sim/qwen3.6-35b-a3b\n");
  const flood = async (bytes: number) => {
    const bin = join(runsDir, `flood-${bytes}.sh`);
    writeFileSync(bin, `#!/bin/sh\nhead -c ${bytes} /dev/zero | tr '\\0' 'x'\necho\necho 'CASE_RESULT {"protocol":"case-result/1","status":"completed","summary":"flood"}'\n`);
    chmodSync(bin, 0o755);
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const { report } = await runOnce({
      fixture: "r1-string-slugify",
      engine: "case",
      provider: "sim",
      model: "qwen3.6-35b-a3b",
      runsDir,
      isolation: "none",
      budget: 1024,
      env: { PATH: process.env.PATH, CTO_HARNESS_CASE_BIN: bin },
    });
    clearInterval(sampler);
    return { protocol_valid: report.agent_result?.protocol_valid ?? null, rss_growth_mb: Math.round(((peak - rssBefore) / 1048576) * 10) / 10 };
  };
  const small = await flood(10 * 1048576);
  const large = await flood(100 * 1048576);
  rmSync(runsDir, { recursive: true, force: true });
  const medianOverhead = median(overheads);
  return {
    fake_noop_runs: n,
    fake_noop_total_ms_median: median(totals),
    fake_noop_overhead_ms_median: medianOverhead,
    target_overhead_ms: 300,
    overhead_within_target: medianOverhead <= 300,
    flood_10mb: small,
    flood_100mb: large,
    // Flat: 100 MB of output must cost a bounded amount of memory, not anything like its size.
    flood_flat_target_mb: 64,
    flood_memory_flat: large.rss_growth_mb < 64,
  };
}

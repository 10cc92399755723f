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
  // 100 MB of agent output through the case engine: RSS growth must stay small.
  const bin = join(runsDir, "flood.sh");
  writeFileSync(bin, "#!/bin/sh\nhead -c 104857600 /dev/zero | tr '\\0' 'x'\necho 'CASE_RESULT {\"protocol\":\"case-result/1\",\"status\":\"completed\",\"summary\":\"flood\"}'\n");
  chmodSync(bin, 0o755);
  const admission = join(runsDir, "admission.yaml");
  writeFileSync(admission, "admitted:\n  - sim/qwen3.6-35b-a3b\n");
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const flood = await runOnce({
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
  rmSync(runsDir, { recursive: true, force: true });
  const medianOverhead = median(overheads);
  return {
    fake_noop_runs: n,
    fake_noop_total_ms_median: median(totals),
    fake_noop_overhead_ms_median: medianOverhead,
    target_overhead_ms: 300,
    overhead_within_target: medianOverhead <= 300,
    flood_output_bytes: 104857600,
    flood_run_status: flood.report.status,
    flood_rss_growth_mb: Math.round(((peak - rssBefore) / 1048576) * 10) / 10,
  };
}

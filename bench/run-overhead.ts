// Issue targets: harness overhead of a fake-noop run ≤ 150 ms median (issue #10; it was
// ≤ 300 ms before), counted as the run's total minus the fixture's own test process (so the
// judge's pristine snapshot, capture, fresh tree and records ARE overhead); bundle writing
// memory flat with 100 MB of agent output. The older measure (total minus the whole judge
// stage, `tests_ms`) is reported too, for comparison with earlier results.
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { runOnce } from "../src/run/lifecycle.ts";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function bench(): Promise<object> {
  const runsDir = mkdtempSync(join(tmpdir(), "cto-bench-runs-"));
  const overheads: number[] = [];
  const overheadsOld: number[] = [];
  const totals: number[] = [];
  const phases: Record<string, number[]> = { workspace_ms: [], snapshot_ms: [], capture_ms: [], judge_beyond_tests_ms: [], scan_ms: [] };
  const n = 15;
  const loadAtStart = loadavg()[0];
  // The first run of a process pays one-off costs (module loading, the fixture's first git
  // workspace, the expected-tests oracle run when not cached): it is run, but not counted.
  await runOnce({ fixture: "r1-string-slugify", engine: "fake-noop", provider: "sim", model: "qwen3.6-35b-a3b", runsDir, isolation: "none", budget: 1024, env: { PATH: process.env.PATH } });
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
    const t = report.timings;
    totals.push(t.total_ms!);
    overheads.push(t.total_ms! - (report.tests?.duration_ms ?? 0));
    overheadsOld.push(t.total_ms! - (t.tests_ms ?? 0));
    for (const k of ["workspace_ms", "snapshot_ms", "capture_ms", "scan_ms"]) phases[k]!.push(t[k] ?? 0);
    phases.judge_beyond_tests_ms!.push((t.tests_ms ?? 0) - (report.tests?.duration_ms ?? 0));
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
    load_average_1m_at_start: loadAtStart,
    fake_noop_total_ms_median: median(totals),
    fake_noop_overhead_ms_median: medianOverhead,
    overhead_definition: "total_ms minus the fixture's own test process (report.tests.duration_ms)",
    fake_noop_overhead_excluding_judge_ms_median: median(overheadsOld),
    phase_ms_median: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, median(v)])),
    target_overhead_ms: 150,
    overhead_within_target: medianOverhead <= 150,
    flood_10mb: small,
    flood_100mb: large,
    // Flat: 100 MB of output must cost a bounded amount of memory, not anything like its size.
    flood_flat_target_mb: 64,
    flood_memory_flat: large.rss_growth_mb < 64,
  };
}

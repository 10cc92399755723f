// Added start-up time of the bubblewrap sandbox: median wall time of `bwrap <the run's
// sandbox> -- true` minus that of a plain `true`, both spawned from Node (target ≤ 50 ms).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { buildBwrapArgs, bwrapPath, checkSandbox, detectHostLayout } from "../src/sandbox/bwrap.ts";

function timeRun(command: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(command, args, { stdio: "ignore", env: { PATH: "/usr/bin:/bin" } });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${command} exited ${code}`))));
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function bench(): Promise<object> {
  const check = await checkSandbox();
  if (!check.ok) return { name: "sandbox-start", skipped: true, reason: check.reason };
  const ws = mkdtempSync(join(tmpdir(), "cto-bench-sbx-"));
  try {
    const bwrapArgs = buildBwrapArgs({ workspace: ws, roBinds: [], protectedPaths: [], homeDir: "/tmp/home" }, "/usr/bin/true", [], {
      layout: detectHostLayout(),
    });
    const runs = 25;
    const plain: number[] = [];
    const boxed: number[] = [];
    for (let i = 0; i < 3; i++) {
      await timeRun("/usr/bin/true", []);
      await timeRun(bwrapPath(), bwrapArgs);
    }
    for (let i = 0; i < runs; i++) {
      plain.push(await timeRun("/usr/bin/true", []));
      boxed.push(await timeRun(bwrapPath(), bwrapArgs));
    }
    const added = median(boxed) - median(plain);
    return {
      name: "sandbox-start",
      runs,
      plain_true_median_ms: +median(plain).toFixed(2),
      bwrap_true_median_ms: +median(boxed).toFixed(2),
      added_median_ms: +added.toFixed(2),
      target_ms: 50,
      meets_target: added <= 50,
      load_average_1m: loadavg()[0],
    };
  } finally {
    rmSync(ws, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await bench(), null, 2));

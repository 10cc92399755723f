import type { Command } from "commander";
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { startViewer } from "../../view/server.ts";
import { UsageError } from "../../core/exit-codes.ts";

export function register(program: Command): void {
  program
    .command("view")
    .description("browse runs and loops in a local, read-only web app on 127.0.0.1 (no network, no external assets)")
    .argument("[runs-dir]", "the runs directory (default: $CTO_HARNESS_RUNS_DIR, else ./harness-runs)")
    .option("--port <n>", "port on 127.0.0.1 (0: any free port)", "8484")
    .option("--json", "print {url, runs_dir} as one JSON line on stdout once listening")
    .action(async (dirArg: string | undefined, o: { port: string; json?: boolean }) => {
      const dir = resolve(dirArg ?? process.env.CTO_HARNESS_RUNS_DIR ?? "harness-runs");
      if (!/^\d+$/.test(o.port) || Number(o.port) > 65535) throw new UsageError(`--port must be a number from 0 to 65535 (got ${o.port})`);
      if (!existsSync(dir)) throw new UsageError(`no runs directory ${dir}: run 'cto-harness demo' first, or give the directory that holds your runs`);
      if (!statSync(dir).isDirectory()) throw new UsageError(`${dir} is a file; give the directory that holds your run directories`);
      if (existsSync(join(dir, "report.json")) || existsSync(join(dir, "loop.json"))) {
        throw new UsageError(`${dir} is a ${existsSync(join(dir, "loop.json")) ? "loop" : "run"} directory; give the runs directory that holds it (its parent)`);
      }
      let viewer;
      try {
        viewer = await startViewer({ root: dir, port: Number(o.port) });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EADDRINUSE") throw new UsageError(`port ${o.port} on 127.0.0.1 is in use: pass --port 0 for a free one, or another port`);
        throw e;
      }
      if (o.json) process.stdout.write(JSON.stringify({ url: viewer.url, runs_dir: dir }) + "\n");
      process.stderr.write(`cto-harness view: ${viewer.url} (read-only over ${dir}; Ctrl-C to stop)\n`);
      const stop = () => void viewer.close().then(() => process.exit(0));
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
}

// `cto-harness worker --queue URL --provider P [--slots N]`: serve one provider's queued runs
// on this host (docs/scaling.md). Runs until SIGINT/SIGTERM; in-flight runs then end
// `interrupted` and go back to the queue for another worker.
import type { Command } from "commander";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { runOnce } from "../../run/lifecycle.ts";
import { ConfigError } from "../../config/providers.ts";
import { runWorker } from "../../queue/worker.ts";
import { checkQueueUrl, QueueUrlError } from "../../queue/queue-url.ts";
import { EXIT, UsageError } from "../../core/exit-codes.ts";
import { defaultRunsDir, positiveInt } from "../run-options.ts";
import { AttestKeyError, loadSigningKey } from "../../attest/index.ts";

interface WorkerCliOptions {
  queue: string;
  provider: string;
  slots: number;
  concurrency?: number;
  workerId?: string;
  runsDir?: string;
  providerWait: number;
  key?: string;
}

function signalsToAbort(): { signal: AbortSignal; dispose(): void } {
  const c = new AbortController();
  const onSig = () => {
    process.stderr.write("\ncto-harness worker: stopping (in-flight runs end interrupted and return to the queue)\n");
    c.abort();
  };
  for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(s, onSig);
  return { signal: c.signal, dispose: () => { for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.off(s, onSig); } };
}

async function workerFromCli(o: WorkerCliOptions): Promise<number> {
  try {
    checkQueueUrl(o.queue);
  } catch (e) {
    if (e instanceof QueueUrlError) throw new UsageError(e.message);
    throw e;
  }
  const workerId = o.workerId ?? `${hostname()}-${o.provider}`;
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(workerId)) throw new UsageError(`--worker-id must be letters, digits, '.', '_' or '-' (got '${workerId}')`);
  const stateDir = resolve(join(o.runsDir ?? defaultRunsDir(process.env), `worker-${workerId}`));
  const signingKey = o.key
    ? await loadSigningKey(o.key).catch((e: Error) => {
        throw e instanceof AttestKeyError ? new UsageError(`--key: ${e.message}`) : e;
      })
    : undefined;
  const signals = signalsToAbort();
  try {
    await runWorker(
      {
        queueUrl: o.queue,
        provider: o.provider,
        slots: o.slots,
        concurrency: o.concurrency ?? o.slots,
        workerId,
        stateDir,
        env: process.env,
        signal: signals.signal,
        log: (line) => process.stderr.write(`[worker ${workerId}] ${line}\n`),
        providerWaitSec: o.providerWait,
        signingKey,
      },
      { runOnce },
    );
    return EXIT.pass;
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  } finally {
    signals.dispose();
  }
}

export function register(program: Command): void {
  program
    .command("worker")
    .description("serve one provider's queued runs on this host (the endpoint comes from this host's environment)")
    .requiredOption("--queue <url>", "PostgreSQL URL of the queue (no password in it: use PGPASSWORD or ~/.pgpass)")
    .requiredOption("--provider <name>", "the provider this host serves (qwen-local, or one from cto-harness.config.yaml)")
    .option("--slots <n>", "model requests in flight at once for this provider, across all its workers", positiveInt("--slots"), 1)
    .option("--concurrency <n>", "runs at once on this host (default: --slots)", positiveInt("--concurrency"))
    .option("--worker-id <id>", "stable name of this worker (default <hostname>-<provider>); a restarted worker with the same id cleans up what its previous process left")
    .option("--runs-dir <dir>", "where this worker keeps its runs (default $CTO_HARNESS_RUNS_DIR or ./harness-runs)")
    .option("--provider-wait <seconds>", "longest a run waits, in all, for its paused provider (429/5xx/refused)", positiveInt("--provider-wait"), 1800)
    .option("--key <path>", "sign every bundle with this Ed25519 private key (cto-harness keys init); a coordinator with --trust accepts only signed bundles")
    .action(async (o: WorkerCliOptions) => {
      process.exitCode = await workerFromCli(o);
    });
}

// `cto-harness loop ... --queue URL`: the loop as a coordinator of workers on other hosts
// (docs/scaling.md). Parsing and refusals here; the coordinator is src/queue/coordinator.ts.
import { loadFixture } from "../../fixtures/load.ts";
import { verifyBundle } from "../../evidence/verify.ts";
import { readLoopFile } from "../../loop/loop.ts";
import type { LoopConfig } from "../../loop/config.ts";
import { runQueuedLoop } from "../../queue/coordinator.ts";
import { parseTargets, type FixtureRef, type Target } from "../../queue/plan.ts";
import { checkQueueUrl, QueueUrlError } from "../../queue/queue-url.ts";
import { loadTrust, type BundleTrust } from "../../queue/trust.ts";
import { signLoop, signingRefusal, type SigningKey } from "../../attest/index.ts";
import { renderMarkdown } from "../../loop/render.ts";
import { UsageError } from "../../core/exit-codes.ts";
import { abortOnSignals } from "../run-signals.ts";

export interface QueueCliOptions {
  queue: string;
  providers?: string;
  provider: string;
  model: string;
  trust?: string;
  rejudge?: boolean;
  /** Loaded by the loop command (`--key`): signs the loop-level statement over every manifest. */
  signingKey?: SigningKey;
  queueDeadline: number;
  concurrency: number;
  modelConcurrency: number;
  loopDir?: string;
  junit?: string;
  json?: boolean;
}

/** A queued loop sends fixture ids: a fixture directory exists only on this machine. */
async function fixtureRefs(refs: string[]): Promise<FixtureRef[]> {
  const out: FixtureRef[] = [];
  for (const ref of refs) {
    const f = await loadFixture(ref);
    if (!f.builtin) throw new UsageError(`--queue: fixture ${ref} is a directory on this machine; a queued loop sends fixture ids that every worker has (built-in fixtures: cto-harness fixtures list)`);
    out.push({ id: f.id, digest: f.digest, variant: f.variant?.name ?? null, label: ref });
  }
  return out;
}

async function targetsFor(o: QueueCliOptions, resumeDir: string | undefined, explicit: (k: string) => boolean): Promise<Target[]> {
  if (resumeDir && !explicit("providers") && !explicit("provider") && !explicit("model")) {
    const stored = await readLoopFile(resumeDir);
    if (stored.config.targets) return stored.config.targets;
  }
  try {
    return parseTargets(o.providers ?? o.provider, o.model);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

async function trustFor(o: QueueCliOptions): Promise<BundleTrust> {
  if (!o.trust) {
    throw new UsageError(
      "--queue needs --trust DIR: bundles come from other machines and are accepted only when signed by a known worker key; " +
        "run 'cto-harness keys init --out KEY' on each worker, start it with --key KEY, and copy each KEY.pub into DIR",
    );
  }
  try {
    return await loadTrust(o.trust, o.rejudge === true);
  } catch (e) {
    throw new UsageError(`--trust: ${(e as Error).message}`);
  }
}

export async function queuedLoopFromCli(o: QueueCliOptions, base: LoopConfig, runsDir: string, resumeDir: string | undefined, explicit: (k: string) => boolean): Promise<number> {
  try {
    checkQueueUrl(o.queue);
  } catch (e) {
    if (e instanceof QueueUrlError) throw new UsageError(e.message);
    throw e;
  }
  const targets = await targetsFor(o, resumeDir, explicit);
  const config: LoopConfig & { targets: Target[] } = { ...base, provider: targets[0]!.provider, model: targets[0]!.model, targets };
  const fixtures = await fixtureRefs(config.fixtures);
  const trust = await trustFor(o);
  // Every bundle must be signed, so every run must be signable (an unsandboxed agent could read the worker's key).
  for (const engine of config.engines) {
    const refusal = signingRefusal(engine, config.isolation);
    if (refusal) throw new UsageError(`--queue: ${refusal}`);
  }
  const key = o.signingKey;
  const signals = abortOnSignals();
  try {
    const { summary, loopDir } = await runQueuedLoop(
      {
        config,
        fixtures,
        settings: { concurrency: o.concurrency, model_concurrency: o.modelConcurrency },
        runsDir,
        loopDir: o.loopDir,
        resumeDir,
        queueUrl: o.queue,
        env: process.env,
        signal: signals.signal,
        log: (line) => process.stderr.write(`${line}\n`),
        deadlineSec: o.queueDeadline,
        junitFile: o.junit,
        trust,
        signLoop: key ? async (dir) => void (await signLoop(dir, key)) : undefined,
      },
      { verifyBundle },
    );
    process.stderr.write("\n" + renderMarkdown(summary));
    process.stderr.write(`\nloop directory: ${loopDir}\n`);
    if (o.json) process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
    return summary.exit_code;
  } finally {
    signals.dispose();
  }
}

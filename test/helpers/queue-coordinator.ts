// A coordinator as its own process, so a test can kill it (SIGKILL) and start it again with
// resume. argv[2]: JSON {queueUrl, runsDir, loopDir?, resumeDir?, providers, fixtures, engines, attempts, isolation, deadlineSec}.
// Prints the summary JSON on stdout.
import { runQueuedLoop } from "../../src/queue/coordinator.ts";
import { verifyBundle } from "../../src/evidence/verify.ts";
import { loadFixture } from "../../src/fixtures/load.ts";
import { MODEL } from "./queue-env.ts";

const a = JSON.parse(process.argv[2]!) as {
  queueUrl: string; runsDir: string; loopDir?: string; resumeDir?: string; providers: string[];
  fixtures: string[]; engines: string[]; attempts: number; isolation: "bwrap" | "none"; deadlineSec: number;
};
const fixtures = [];
for (const ref of a.fixtures) {
  const f = await loadFixture(ref);
  fixtures.push({ id: f.id, digest: f.digest, variant: null, label: ref });
}
const targets = a.providers.map((provider) => ({ provider, model: MODEL }));
const { summary } = await runQueuedLoop(
  {
    config: { fixtures: a.fixtures, engines: a.engines, attempts: a.attempts, provider: targets[0]!.provider, model: MODEL, isolation: a.isolation, budget: 1024, agent_timeout_sec: 120, targets },
    fixtures,
    settings: { concurrency: 1, model_concurrency: 1 },
    runsDir: a.runsDir,
    loopDir: a.loopDir,
    resumeDir: a.resumeDir,
    queueUrl: a.queueUrl,
    env: { PATH: process.env.PATH },
    log: (l) => process.stderr.write(`[coordinator] ${l}\n`),
    deadlineSec: a.deadlineSec,
    trust: null,
    progressEveryMs: 3000,
  },
  { verifyBundle },
);
process.stdout.write(JSON.stringify(summary) + "\n");

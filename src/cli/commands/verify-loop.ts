// `verify LOOP_DIR --key PUB`: the loop's own statement, then every run it names, each signed
// and intact.
import { join } from "node:path";
import { secretValuesInEnv } from "../../config/providers.ts";
import { attestationProblem, verifyLoopAttestation, verifySignedBundle, type TrustedKeys } from "../../attest/index.ts";
import { LoopPredicate } from "../../attest/statement.ts";

export async function verifyLoopFromCli(loopDir: string, trusted: TrustedKeys, o: { json?: boolean }): Promise<number> {
  const loop = await verifyLoopAttestation(loopDir, trusted);
  const problems: string[] = [];
  const first = attestationProblem(loop);
  if (first) problems.push(first);
  const runs: { run_id: string; ok: boolean; problems: string[] }[] = [];
  const predicate = loop.ok ? LoopPredicate.parse(loop.statement!.predicate) : null;
  for (const r of predicate?.runs ?? []) {
    const v = await verifySignedBundle(join(loopDir, r.run_id), trusted, { secrets: secretValuesInEnv(process.env) });
    runs.push({ run_id: r.run_id, ok: v.ok, problems: v.problems });
    for (const p of v.problems) problems.push(`${r.run_id}: ${p}`);
  }
  const ok = problems.length === 0;
  const summary = { ok, loop_dir: loopDir, keyid: loop.keyid, attestation_failure: loop.failure, runs, problems };
  if (o.json) process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
  else {
    process.stderr.write(ok ? `verified loop: ${loopDir} (${runs.length} run(s), signed by trusted keyid ${loop.keyid})\n` : `NOT verified: ${loopDir}\n`);
    for (const p of problems) process.stderr.write(`  - ${p}\n`);
  }
  return ok ? 0 : 1;
}

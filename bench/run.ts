// `npm run bench`: runs every bench/<name>.ts (each exports `bench(): Promise<object>`),
// writes bench/results/<name>.json and a combined bench/results/all.json.
// `npm run bench -- proxy probe` runs only those.
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";

const here = new URL(".", import.meta.url);
const only = process.argv.slice(2);
const names = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts" && !f.startsWith("_"))
  .map((f) => f.replace(/\.ts$/, ""))
  .filter((n) => only.length === 0 || only.includes(n))
  .sort();
mkdirSync(new URL("results/", here), { recursive: true });
const all: Record<string, unknown> = {
  machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? null, memory_bytes: totalmem(), node: process.version },
  started_at: new Date().toISOString(),
};
let failed = 0;
for (const name of names) {
  process.stderr.write(`bench ${name} ...\n`);
  const t0 = Date.now();
  try {
    const mod = (await import(new URL(`${name}.ts`, here).href)) as { bench: () => Promise<object> };
    const result = { name, duration_ms: Date.now() - t0, ...(await mod.bench()) };
    result.duration_ms = Date.now() - t0;
    all[name] = result;
    writeFileSync(new URL(`results/${name}.json`, here), JSON.stringify(result, null, 2) + "\n");
    process.stderr.write(`${JSON.stringify(result)}\n`);
  } catch (e) {
    failed++;
    all[name] = { name, error: e instanceof Error ? e.message : String(e) };
    process.stderr.write(`bench ${name} failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  }
}
writeFileSync(new URL("results/all.json", here), JSON.stringify(all, null, 2) + "\n");
process.stderr.write(`wrote bench/results/all.json (${names.length} benchmarks, ${failed} failed)\n`);
process.exitCode = failed ? 1 : 0;

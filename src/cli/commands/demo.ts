import { Option, type Command } from "commander";
import { runFromCli } from "./run.ts";
import { defaultRunsDir } from "../run-options.ts";
import { checkSandbox } from "../../sandbox/bwrap.ts";
import { bwrapProblem, detectPlatform, fixFor } from "../../doctor/fixes.ts";
import { decideDemoIsolation, renderFallbackWarning, type DemoIsolationAsk } from "../../run/demo-isolation.ts";
import { readFileSync } from "node:fs";

function osRelease(): string | null {
  try {
    return readFileSync("/etc/os-release", "utf8");
  } catch {
    return null;
  }
}

export function register(program: Command): void {
  program
    .command("demo")
    .description("the whole pipeline on the embedded simulated endpoint: the builtin agent fixes r1-string-slugify")
    .option("--runs-dir <dir>", "where run directories go")
    .addOption(
      new Option("--isolation <mode>", "sandbox for the agent and the tests (auto: bubblewrap if it starts, else none, loudly)")
        .choices(["auto", "bwrap", "none"])
        .default("auto"),
    )
    .option("--json", "print the report as JSON on stdout")
    .action(async (o: { runsDir?: string; isolation: DemoIsolationAsk; json?: boolean }) => {
      process.stderr.write(
        "cto-harness demo: a simulated reasoning model (vLLM ≥0.16 shapes: reasoning first, then content) drives the builtin agent on r1-string-slugify.\n",
      );
      const sandbox = o.isolation === "auto" ? await checkSandbox() : ({ ok: true } as const);
      const fix = sandbox.ok ? "" : fixFor(bwrapProblem(sandbox.reason), detectPlatform(process.platform, osRelease()));
      const decided = decideDemoIsolation(o.isolation, sandbox, fix);
      if (decided.fallback) process.stderr.write(renderFallbackWarning(decided.fallback));
      process.exitCode = await runFromCli({
        fixture: "r1-string-slugify",
        engine: "builtin",
        provider: "sim",
        model: "qwen3.6-35b-a3b",
        runsDir: o.runsDir ?? defaultRunsDir(process.env),
        isolation: decided.isolation,
        isolationFallback: decided.fallback ?? undefined,
        budget: 1024,
        simFlavour: "vllm-0.16",
        simScenario: "solve",
        json: o.json,
      });
      if (decided.fallback) process.stderr.write(renderFallbackWarning(decided.fallback));
      process.stderr.write(`See its proof chain in a browser: npx cto-harness view${o.runsDir ? ` ${o.runsDir}` : ""}\n`);
    });
}

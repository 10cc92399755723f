import { Option, type Command } from "commander";
import { runFromCli } from "./run.ts";
import { defaultRunsDir } from "../run-options.ts";

export function register(program: Command): void {
  program
    .command("demo")
    .description("the whole pipeline on the embedded simulated endpoint: the builtin agent fixes r1-string-slugify")
    .option("--runs-dir <dir>", "where run directories go")
    .addOption(new Option("--isolation <mode>", "sandbox for the agent and the tests").choices(["bwrap", "none"]).default("bwrap"))
    .option("--json", "print the report as JSON on stdout")
    .action(async (o: { runsDir?: string; isolation: "bwrap" | "none"; json?: boolean }) => {
      process.stderr.write(
        "cto-harness demo: a simulated reasoning model (vLLM ≥0.16 shapes: reasoning first, then content) drives the builtin agent on r1-string-slugify.\n",
      );
      process.exitCode = await runFromCli({
        fixture: "r1-string-slugify",
        engine: "builtin",
        provider: "sim",
        model: "qwen3.6-35b-a3b",
        runsDir: o.runsDir ?? defaultRunsDir(process.env),
        isolation: o.isolation,
        budget: 1024,
        simFlavour: "vllm-0.16",
        simScenario: "solve",
        json: o.json,
      });
    });
}

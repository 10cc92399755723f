#!/usr/bin/env node
// The `cto-harness` command line. Each command lives in its own file under commands/.
import { Command, CommanderError } from "commander";
import { EXIT, UsageError } from "../core/exit-codes.ts";
import { HARNESS_VERSION } from "../version.ts";
import { register as registerRun } from "./commands/run.ts";
import { register as registerDemo } from "./commands/demo.ts";
import { register as registerVerify } from "./commands/verify.ts";
import { register as registerFixtures } from "./commands/fixtures.ts";
import { register as registerSim } from "./commands/sim.ts";
import { register as registerProbe } from "./commands/probe.ts";
import { register as registerProxy } from "./commands/proxy.ts";
import { register as registerLoop } from "./commands/loop.ts";
import { register as registerHealth } from "./commands/health.ts";
import { register as registerSot } from "./commands/sot.ts";
import { register as registerDoctor } from "./commands/doctor.ts";
import { register as registerWorker } from "./commands/worker.ts";
import { register as registerKeys } from "./commands/keys.ts";
import { register as registerView } from "./commands/view.ts";
import { register as registerCompare } from "./commands/compare.ts";

const program = new Command("cto-harness")
  .description("Proves, with evidence a sceptic accepts, whether a coding agent driven by a local model can fix a task.")
  .version(HARNESS_VERSION)
  .exitOverride()
  .showHelpAfterError("(run with --help for usage)");

for (const register of [
  registerRun,
  registerDemo,
  registerLoop,
  registerWorker,
  registerProbe,
  registerProxy,
  registerVerify,
  registerView,
  registerCompare,
  registerHealth,
  registerDoctor,
  registerSot,
  registerFixtures,
  registerSim,
  registerKeys,
]) {
  register(program);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version exit 0; everything else commander rejects is a usage error.
    process.exitCode = error.exitCode === 0 ? 0 : EXIT.usage;
  } else if (error instanceof UsageError) {
    process.stderr.write(`cto-harness: ${error.message}\n`);
    process.exitCode = EXIT.usage;
  } else {
    process.stderr.write(`cto-harness: harness error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = EXIT.error;
  }
}

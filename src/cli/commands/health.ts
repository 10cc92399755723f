import type { Command } from "commander";

// Placeholder: replaced by the module that owns this command.
export function register(program: Command): void {
  program
    .command("health")
    .description("(not built yet)")
    .allowUnknownOption()
    .action(() => {
      process.stderr.write("cto-harness health: not built yet\n");
      process.exitCode = 3;
    });
}

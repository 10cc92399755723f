import type { Command } from "commander";

// Placeholder: replaced by the module that owns this command.
export function register(program: Command): void {
  program
    .command("probe")
    .description("(not built yet)")
    .allowUnknownOption()
    .action(() => {
      process.stderr.write("cto-harness probe: not built yet\n");
      process.exitCode = 3;
    });
}

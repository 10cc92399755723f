import type { Command } from "commander";

// Placeholder: replaced by the module that owns this command.
export function register(program: Command): void {
  program
    .command("sot")
    .description("(not built yet)")
    .allowUnknownOption()
    .action(() => {
      process.stderr.write("cto-harness sot: not built yet\n");
      process.exitCode = 3;
    });
}

import type { Command } from "commander";

// Placeholder: replaced by the module that owns this command.
export function register(program: Command): void {
  program
    .command("loop")
    .description("(not built yet)")
    .allowUnknownOption()
    .action(() => {
      process.stderr.write("cto-harness loop: not built yet\n");
      process.exitCode = 3;
    });
}

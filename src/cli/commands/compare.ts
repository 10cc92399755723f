import type { Command } from "commander";
import { existsSync, statSync } from "node:fs";
import { compareSides } from "../../compare/compare.ts";
import { CompareInputError, loadSide } from "../../compare/load.ts";
import { renderComparisonText } from "../../compare/render.ts";
import { UsageError } from "../../core/exit-codes.ts";

export function register(program: Command): void {
  program
    .command("compare")
    .description("compare two loops (or two directories of runs) fixture by fixture: pass rates with 95 % Wilson intervals, an exact McNemar test on the paired runs, tokens and time per solved task")
    .argument("<a>", "side A: a loop directory, or a directory of run directories")
    .argument("<b>", "side B: the same")
    .option("--json", "print the comparison (cto-harness/compare@1) as JSON on stdout")
    .action(async (a: string, b: string, o: { json?: boolean }) => {
      for (const p of [a, b]) {
        if (!existsSync(p)) throw new UsageError(`no such directory: ${p} (give a loop directory or a directory of runs)`);
        if (!statSync(p).isDirectory()) throw new UsageError(`${p} is a file; give a loop directory or a directory of runs`);
      }
      let sides;
      try {
        sides = [await loadSide(a), await loadSide(b)] as const;
      } catch (e) {
        if (e instanceof CompareInputError) throw new UsageError(e.message);
        throw e;
      }
      const c = compareSides(sides[0], sides[1]);
      if (o.json) process.stdout.write(JSON.stringify(c, null, 2) + "\n");
      else process.stderr.write(renderComparisonText(c));
      process.exitCode = 0;
    });
}

// vitest globalSetup: the whole test run gets one private temporary directory (TMPDIR, which
// os.tmpdir() and every child process honour), removed when the run ends, so a full
// `npm test` leaves nothing behind in the system temp dir — whatever a test forgot to clean.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export default function setup(): () => void {
  const systemTmp = tmpdir();
  const dir = mkdtempSync(join(systemTmp, "cto-harness-tests-"));
  process.env.TMPDIR = dir;
  return () => {
    process.env.TMPDIR = systemTmp;
    // Tests chmod things (an agent's chmod 000): make everything removable first.
    spawnSync("chmod", ["-R", "u+rwX", dir], { stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true });
    const left = readdirSync(systemTmp).filter((n) => n === dir.split("/").pop());
    if (left.length) process.stderr.write(`warning: could not remove the test run's temp dir ${dir}\n`);
  };
}

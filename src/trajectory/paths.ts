import { join } from "node:path";

/** Where a run's normalised trajectory lives (DESIGN §5 run directory). */
export function trajectoryPath(runDir: string): string {
  return join(runDir, "trajectory.jsonl");
}

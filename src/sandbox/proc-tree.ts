// Walking a process tree through /proc (children of every thread of a pid).
import { readdirSync, readFileSync } from "node:fs";

/** Children of `pid` (all its threads), from /proc; empty when the process is gone. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, "latin1").trim();
      if (text) for (const c of text.split(" ")) out.push(Number(c));
    } catch {
      /* thread gone */
    }
  }
  return out;
}

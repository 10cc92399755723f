// Samples the argv and environment of a process tree while it runs, looking for secret
// values in any encoding. Polling can miss short-lived processes: this is evidence that
// nothing was seen, not proof that nothing happened (the file scan is the other half).
import { childPids } from "../sandbox/proc-tree.ts";
import { readFileSync } from "node:fs";
import { MultiMatcher } from "./matcher.ts";
import { secretNeedles } from "./variants.ts";

export interface ProcFinding {
  pid: number;
  where: "argv" | "environ";
  form: string;
}

export interface ProcSampleResult {
  /** Number of sampling rounds done. */
  samples: number;
  /** Distinct processes looked at. */
  processes: number;
  findings: ProcFinding[];
}


/** `rootPid` and all its descendants alive now. */
export function descendants(rootPid: number): number[] {
  const seen = new Set<number>([rootPid]);
  const stack = [rootPid];
  while (stack.length) {
    for (const c of childPids(stack.pop()!)) {
      if (!seen.has(c)) {
        seen.add(c);
        stack.push(c);
      }
    }
  }
  return [...seen];
}

export function startProcSampler(rootPid: number, secrets: string[], intervalMs = 100): { stop(): ProcSampleResult } {
  const needles = secretNeedles(secrets.filter((s) => s));
  const matcher = new MultiMatcher(needles.map((n) => n.needle));
  const findings: ProcFinding[] = [];
  const keys = new Set<string>();
  const looked = new Set<number>();
  let samples = 0;
  const check = (pid: number, where: "argv" | "environ") => {
    let buf: Buffer;
    try {
      buf = readFileSync(`/proc/${pid}/${where === "argv" ? "cmdline" : "environ"}`);
    } catch {
      return;
    }
    matcher.scan(buf, (idx) => {
      const key = `${pid}\0${where}\0${idx}`;
      if (keys.has(key)) return;
      keys.add(key);
      findings.push({ pid, where, form: needles[idx]!.form });
    });
  };
  const sample = () => {
    samples++;
    if (needles.length === 0) return;
    for (const pid of descendants(rootPid)) {
      looked.add(pid);
      check(pid, "argv");
      check(pid, "environ");
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return { samples, processes: looked.size, findings };
    },
  };
}

export { childPids };

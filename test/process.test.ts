// Process control: on timeout nothing of the run survives (setsid grandchildren
// included), a grandchild holding the pipes does not hold up the result, and a flood of
// output is capped with memory staying flat.
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { pidsWithEnv, runProcess, type ProcessSpec } from "../src/sandbox/process.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "cto-proc-"));
  dirs.push(d);
  return d;
}
/** kill(pid, 0) succeeds on a zombie too (this machine's init reaps orphans lazily): a zombie counts as dead. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}
async function readPid(file: string): Promise<number> {
  for (let i = 0; i < 100 && !existsSync(file); i++) await sleep(20);
  return Number(readFileSync(file, "utf8").trim());
}
function spec(dir: string, script: string, more: Partial<ProcessSpec> = {}): ProcessSpec {
  return {
    command: "/bin/sh",
    args: ["-c", script],
    cwd: dir,
    env: { PATH: "/usr/bin:/bin" },
    timeoutMs: 60_000,
    graceMs: 300,
    stdoutFile: join(dir, "out.log"),
    stderrFile: join(dir, "err.log"),
    ...more,
  };
}

describe("runProcess", () => {
  it("kills a setsid grandchild that ignores TERM when the run times out", async () => {
    const dir = tmp();
    const pidFile = join(dir, "gc.pid");
    const res = await runProcess(
      spec(dir, `setsid sh -c 'trap "" TERM; echo $$ > ${pidFile}; while :; do sleep 1; done' & trap "" TERM; while :; do sleep 1; done`, {
        timeoutMs: 500,
      }),
    );
    expect(res.timedOut).toBe(true);
    const gc = await readPid(pidFile);
    expect(gc).toBeGreaterThan(1);
    await sleep(100);
    expect(alive(gc)).toBe(false);
  });

  it("kills a setsid grandchild whose parent exited at once (found by the run token, not the tree)", async () => {
    const dir = tmp();
    const pidFile = join(dir, "gc.pid");
    const marker = `m${Math.random().toString(16).slice(2)}`;
    const res = await runProcess(
      spec(dir, `(setsid sh -c 'echo $$ > ${pidFile}; exec sleep 1000' &); sleep 0.3; exit 3`, { env: { PATH: "/usr/bin:/bin", MARK: marker } }),
    );
    expect(res.exitCode).toBe(3);
    expect(res.strayProcessesKilled).toBeGreaterThanOrEqual(1);
    const gc = await readPid(pidFile);
    await sleep(100);
    expect(alive(gc)).toBe(false);
    expect(pidsWithEnv("MARK", marker)).toEqual([]);
  });

  it("resolves soon after the grace period although a grandchild holds stdout open", async () => {
    const dir = tmp();
    const t0 = Date.now();
    // The grandchild holds stdout and ignores TERM; the child ignores TERM too.
    const res = await runProcess(spec(dir, `sh -c 'trap "" TERM; sleep 1000' & trap "" TERM; sleep 1000`, { timeoutMs: 300, graceMs: 300 }));
    const took = Date.now() - t0;
    expect(res.timedOut).toBe(true);
    expect(res.signal).toBe("SIGKILL");
    expect(took).toBeLessThan(5000); // the grandchild would have held the pipe for 1000 s
  });

  it("does not wait for a background grandchild holding stdout after a normal exit", async () => {
    const dir = tmp();
    const t0 = Date.now();
    const res = await runProcess(spec(dir, `sleep 1000 & echo done; exit 0`));
    expect(res.exitCode).toBe(0);
    expect(res.stdout.lastLines).toEqual(["done"]);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it("caps a 100 MB flood (no newlines, and lines) with memory staying flat", async () => {
    for (const source of ["head -c 104857600 /dev/zero", "yes 0123456789abcdef | head -c 104857600"]) {
      const dir = tmp();
      let peak = 0;
      const before = process.memoryUsage().rss;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      const res = await runProcess(spec(dir, source, { capBytes: 1024 * 1024 }));
      clearInterval(sampler);
      expect(res.exitCode).toBe(0);
      expect(res.stdout.bytes).toBe(104857600);
      expect(res.stdout.truncated).toBe(true);
      const size = statSync(join(dir, "out.log")).size;
      expect(size).toBeGreaterThanOrEqual(1024 * 1024);
      expect(size).toBeLessThan(1024 * 1024 + 200);
      expect(readFileSync(join(dir, "out.log"), "latin1")).toContain("output cut at 1048576 bytes; 104857600 bytes were produced");
      expect(peak - before).toBeLessThan(80 * 1024 * 1024);
    }
  });

  it("passes stdout lines to onStdoutLine and reports a missing binary as not started", async () => {
    const dir = tmp();
    const lines: string[] = [];
    const res = await runProcess(spec(dir, "printf 'a\\nb\\nlast'", { onStdoutLine: (l) => lines.push(l) }));
    expect(lines).toEqual(["a", "b", "last"]);
    const missing = await runProcess({ ...spec(dir, ""), command: "/nonexistent/agent" });
    expect(missing.started).toBe(false);
    expect(missing.startError).toMatch(/ENOENT/);
  });

  it("stops the tree on abort", async () => {
    const dir = tmp();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const res = await runProcess(spec(dir, "sleep 1000", { signal: ac.signal }));
    expect(res.aborted).toBe(true);
    expect(res.timedOut).toBe(false);
  });
});

describe("runProcess: an agent that has given its result", () => {
  it("lingering after its result: a short grace, then its whole tree is ended (setsid grandchild included)", async () => {
    const dir = tmp();
    const finished = new AbortController();
    const t0 = Date.now();
    const p = runProcess(
      spec(dir, `setsid sh -c 'echo $$ > ${dir}/gc.pid; exec sleep 60' & echo RESULT; trap '' TERM; sleep 60`, {
        finished: finished.signal,
        finishedGraceMs: 150,
        finishedKillMs: 150,
        onStdoutLine: (l) => {
          if (l === "RESULT") finished.abort();
        },
      }),
    );
    const gc = await readPid(join(dir, "gc.pid"));
    const out = await p;
    expect(Date.now() - t0, "the run waited for the lingering agent").toBeLessThan(5_000);
    expect(out).toMatchObject({ started: true, timedOut: false, aborted: false });
    expect(out.afterResult).toMatchObject({ graceMs: 150, exitedByItself: false });
    // TERM was ignored: KILL after the kill delay ended it.
    expect(out.afterResult!.afterResultMs).toBeGreaterThanOrEqual(250);
    expect(out.afterResult!.afterResultMs).toBeLessThan(3_000);
    await sleep(100);
    expect(alive(gc), "the setsid grandchild survived the end of the agent").toBe(false);
  });

  it("exiting by itself within the grace: nothing is killed, the exit code is the agent's own", async () => {
    const dir = tmp();
    const finished = new AbortController();
    const out = await runProcess(
      spec(dir, "echo RESULT; sleep 0.05; exit 7", {
        finished: finished.signal,
        finishedGraceMs: 2_000,
        onStdoutLine: (l) => {
          if (l === "RESULT") finished.abort();
        },
      }),
    );
    expect(out.exitCode).toBe(7);
    expect(out.afterResult).toMatchObject({ exitedByItself: true });
    expect(out.afterResult!.afterResultMs).toBeLessThan(2_000);
  });

  it("no result, no grace: a process that never reports is left to its timeout", async () => {
    const dir = tmp();
    const out = await runProcess(spec(dir, "sleep 0.3; echo done", { finished: new AbortController().signal, finishedGraceMs: 10 }));
    expect(out.exitCode).toBe(0);
    expect(out.afterResult).toBeUndefined();
  });
});

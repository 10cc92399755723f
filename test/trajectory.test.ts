// The trajectory writer: one schema, streamed to disk, memory flat on long runs.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { toTrajectoryInput } from "../src/trajectory/schema.ts";
import { createTrajectoryWriter } from "../src/trajectory/writer.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "cto-harness-trajectory-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const readLines = async (file: string) =>
  (await readFile(file, "utf8"))
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));

describe("createTrajectoryWriter", () => {
  it("stamps seq, ts and engine; each event is on disk as soon as write() returns", async () => {
    const file = path.join(dir, "trajectory.jsonl");
    const w = createTrajectoryWriter(file, { engine: "pi" });
    expect(w.write({ kind: "reasoning", text: "think" })).toBe(1);
    // Already readable before close(): an interrupted run keeps what happened.
    expect(await readLines(file)).toHaveLength(1);
    w.write({ kind: "tool_call", tool: "bash", args: { command: "ls" }, call_id: "c1", tokens: { prompt: 5, completion: 2 } });
    w.write({ kind: "tool_result", tool: "bash", call_id: "c1", text: "a\n", is_error: false, ts: "2026-01-01T00:00:00.000Z", engine: "other" });
    w.close();
    const evs = await readLines(file);
    expect(evs.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(evs[0]).toMatchObject({ engine: "pi", kind: "reasoning", text: "think" });
    expect(new Date(evs[0].ts).getTime()).toBeGreaterThan(0);
    expect(evs[1]).toMatchObject({ kind: "tool_call", tool: "bash", args: { command: "ls" }, call_id: "c1", tokens: { prompt: 5, completion: 2 } });
    // An event's own ts and engine are kept.
    expect(evs[2]).toMatchObject({ ts: "2026-01-01T00:00:00.000Z", engine: "other", is_error: false });
    expect(w.write({ kind: "final", text: "late" })).toBe(0); // after close: ignored, no throw
  });

  it("cuts huge texts and says so", async () => {
    const file = path.join(dir, "t.jsonl");
    const w = createTrajectoryWriter(file, { maxTextChars: 100 });
    w.write({ kind: "tool_result", text: "x".repeat(5000) });
    w.close();
    const [ev] = await readLines(file);
    expect(ev.text.length).toBeLessThan(200);
    expect(ev.text).toMatch(/text cut at 100 of 5000 chars/);
  });

  it("appends to an existing file (a resumed run keeps earlier events)", async () => {
    const file = path.join(dir, "t.jsonl");
    const a = createTrajectoryWriter(file, { engine: "builtin" });
    a.write({ kind: "final", text: "one" });
    a.close();
    const b = createTrajectoryWriter(file, { engine: "builtin" });
    b.write({ kind: "final", text: "two" });
    b.close();
    expect((await readLines(file)).map((e) => e.text)).toEqual(["one", "two"]);
  });

  it("memory stays flat over 10,000 events of 2 KB", async () => {
    const file = path.join(dir, "big.jsonl");
    const w = createTrajectoryWriter(file, { engine: "builtin" });
    // A real collection before each measurement, so garbage is not mistaken for growth.
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    // A fresh 2 KB string per event: a writer that kept events would keep all of them.
    const text = (i: number) => {
      const b = Buffer.alloc(2048, 121);
      b.write(String(i));
      return b.toString("latin1");
    };
    for (let i = 0; i < 1000; i++) w.write({ kind: "tool_result", text: text(i) }); // warm up
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 10_000; i++) w.write({ kind: "tool_result", text: text(i), call_id: `c${i}` });
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    w.close();
    expect(w.count).toBe(11_000);
    // 10,000 × 2 KB = 20 MB went to disk; holding it would grow the heap by at least that much.
    expect(grown).toBeLessThan(8 * 1024 * 1024);
    const size = (await readFile(file)).length;
    expect(size).toBeGreaterThan(11_000 * 2048);
  });
});

describe("toTrajectoryInput", () => {
  it("keeps schema fields only and rejects non-events", () => {
    expect(toTrajectoryInput({ kind: "tool_call", tool: "bash", args: { c: 1 }, call_id: "x", extra: "dropped", seq: 9 })).toEqual({
      kind: "tool_call",
      tool: "bash",
      args: { c: 1 },
      call_id: "x",
    });
    expect(toTrajectoryInput({ kind: "nonsense" })).toBeNull();
    expect(toTrajectoryInput(null)).toBeNull();
    expect(toTrajectoryInput({ kind: "final", tokens: { prompt: "1", completion: 2 } })).toEqual({ kind: "final" });
  });
});

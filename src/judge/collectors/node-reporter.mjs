// The judge's Node test reporter (loaded by the harness through NODE_OPTIONS, from outside
// the judged tree). It runs in the `node --test` parent process, which never imports the
// code under test, and appends one JSON line per finished test to the file named by
// CTO_HARNESS_JUDGE_RESULTS. It yields nothing: the fixture's own output stays as it is.
import { appendFileSync } from "node:fs";

const out = process.env.CTO_HARNESS_JUDGE_RESULTS;

export default async function* judgeReporter(source) {
  /** name stack per file, by nesting level */
  const stacks = new Map();
  for await (const event of source) {
    const d = event.data ?? {};
    const key = d.file ?? "";
    if (event.type === "test:start") {
      const stack = stacks.get(key) ?? [];
      stack.length = d.nesting ?? 0;
      stack.push(String(d.name));
      stacks.set(key, stack);
    } else if ((event.type === "test:pass" || event.type === "test:fail") && d.details?.type !== "suite") {
      const stack = (stacks.get(key) ?? []).slice(0, d.nesting ?? 0);
      const name = [...stack, String(d.name)].join(" > ");
      const outcome = d.skip !== undefined || d.todo !== undefined ? "skip" : event.type === "test:pass" ? "pass" : "fail";
      if (out) appendFileSync(out, JSON.stringify({ kind: "test", file: d.file ?? null, name, outcome }) + "\n");
    }
  }
}

// The judge's Node test reporter (loaded by the harness through NODE_OPTIONS, from outside
// the judged tree). It runs in the `node --test` parent process, which never imports the
// code under test, and appends one JSON line per finished test to the file named by
// CTO_HARNESS_JUDGE_RESULTS, each authenticated with a key the harness left beside that
// file. When the reporter starts (before any test file runs) it reads and deletes the key
// and removes the variable from its environment, so the test files' processes — where the
// code under test runs — have neither. It yields nothing: the fixture's output stays as it is.
import { createHmac } from "node:crypto";
import { appendFileSync, readFileSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";

function takeKey(out) {
  try {
    const file = join(dirname(out), "key");
    const key = readFileSync(file);
    unlinkSync(file);
    return key;
  } catch {
    return null;
  }
}

export default async function* judgeReporter(source) {
  const out = process.env.CTO_HARNESS_JUDGE_RESULTS;
  delete process.env.CTO_HARNESS_JUDGE_RESULTS;
  const key = out ? takeKey(out) : null;
  const record = (rec) => {
    const body = ["kind", "file", "name", "outcome", "what"].map((k) => String(rec[k] ?? "None")).join("\0");
    rec.auth = key ? createHmac("sha256", key).update(body).digest("hex") : null;
    appendFileSync(out, JSON.stringify(rec) + "\n");
  };
  /** name stack per file, by nesting level */
  const stacks = new Map();
  for await (const event of source) {
    const d = event.data ?? {};
    const file = d.file ?? "";
    if (event.type === "test:start") {
      const stack = stacks.get(file) ?? [];
      stack.length = d.nesting ?? 0;
      stack.push(String(d.name));
      stacks.set(file, stack);
    } else if ((event.type === "test:pass" || event.type === "test:fail") && d.details?.type !== "suite" && out) {
      const stack = (stacks.get(file) ?? []).slice(0, d.nesting ?? 0);
      const name = [...stack, String(d.name)].join(" > ");
      const outcome = d.skip !== undefined || d.todo !== undefined ? "skip" : event.type === "test:pass" ? "pass" : "fail";
      record({ kind: "test", file: d.file ?? null, name, outcome });
    }
  }
}

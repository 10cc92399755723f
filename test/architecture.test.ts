// The layering rule of docs/architecture.md, checked on the real source: the table in that
// page is the rule, so the doc and the check cannot drift apart.
import { describe, expect, it } from "vitest";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { functionSpans, importsOf, sourceFiles } from "./helpers/source-shape.ts";
import { tempDir } from "./helpers/run-env.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SRC = join(ROOT, "src");
const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 80;
const FUNCTION_LIMIT_DIRS = ["src/run", "src/proxy", "src/sim"];

/** folder → layer, from the "Layers" table of docs/architecture.md. */
function layerTable(markdown: string): Map<string, number> {
  const layers = new Map<string, number>();
  const section = markdown.split(/^## Layers$/m)[1]?.split(/^## /m)[0] ?? "";
  for (const line of section.split("\n")) {
    const m = /^\|\s*(\d+)\s*\|\s*([a-z0-9, -]+?)\s*\|/.exec(line);
    if (!m) continue;
    for (const folder of m[2]!.split(",").map((f) => f.trim()).filter(Boolean)) layers.set(folder, Number(m[1]));
  }
  return layers;
}

/** The top folder under `src` a file belongs to ("" for a file directly in it). */
function folderOf(src: string, absPath: string): string {
  const rel = relative(src, absPath);
  return rel.includes("/") ? rel.split("/")[0]! : "";
}

interface Violation {
  file: string;
  imports: string;
  why: string;
}

function layerViolations(src: string, files: string[], layers: Map<string, number>): Violation[] {
  const out: Violation[] = [];
  for (const file of files) {
    const from = folderOf(src, file);
    for (const spec of importsOf(file)) {
      if (!spec.startsWith(".")) continue;
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(src + "/")) continue;
      const to = folderOf(src, target);
      if (to === from || from === "" || to === "") continue;
      const a = layers.get(from);
      const b = layers.get(to);
      const rel = relative(src, file);
      if (a === undefined) out.push({ file: rel, imports: spec, why: `folder src/${from} is not in the layer table of docs/architecture.md` });
      else if (b === undefined) out.push({ file: rel, imports: spec, why: `folder src/${to} is not in the layer table of docs/architecture.md` });
      else if (b >= a) out.push({ file: rel, imports: spec, why: `src/${from} (layer ${a}) may not import src/${to} (layer ${b})` });
    }
  }
  return out;
}

const layers = layerTable(readFileSync(join(ROOT, "docs/architecture.md"), "utf8"));
const files = sourceFiles(SRC);

describe("architecture (docs/architecture.md)", () => {
  it("the layer table names every folder under src/", () => {
    const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(folders.filter((f) => !layers.has(f))).toEqual([]);
  });

  it("no file imports a folder of its own layer or a higher one", () => {
    expect(layerViolations(SRC, files, layers)).toEqual([]);
  });

  it(`no file in src/ is longer than ${MAX_FILE_LINES} lines`, () => {
    const long = files
      .map((f) => ({ file: relative(ROOT, f), lines: readFileSync(f, "utf8").split("\n").length }))
      .filter((f) => f.lines > MAX_FILE_LINES);
    expect(long).toEqual([]);
  });

  it(`no function in ${FUNCTION_LIMIT_DIRS.join(", ")} is longer than ${MAX_FUNCTION_LINES} lines`, () => {
    const long = FUNCTION_LIMIT_DIRS.flatMap((d) => sourceFiles(join(ROOT, d))).flatMap((f) => functionSpans(f, ROOT)).filter((s) => s.lines > MAX_FUNCTION_LINES);
    expect(long).toEqual([]);
  });

  it("the check itself catches an upward import, a same-layer import, a dynamic import and an unknown folder", () => {
    const src = join(tempDir("arch"), "src");
    const write = (rel: string, text: string) => {
      mkdirSync(dirname(join(src, rel)), { recursive: true });
      writeFileSync(join(src, rel), text);
    };
    write("core/a.ts", "export const a = 1;\n");
    write("run/r.ts", 'import { a } from "../core/a.ts";\nexport const r = a;\n');
    write("judge/up.ts", 'import { r } from "../run/r.ts";\nexport const u = r;\n');
    write("judge/same.ts", 'export type { P } from "../proxy/p.ts";\n');
    write("judge/dyn.ts", 'export const d = () => import("../run/r.ts");\n');
    write("judge/new.ts", 'import type { V } from "../viewer/v.ts";\nexport type W = V;\n');
    write("proxy/p.ts", "export type P = number;\n");
    const table = layerTable("## Layers\n\n| layer | folders | what |\n|---|---|---|\n| 0 | core, text | x |\n| 6 | judge, proxy | y |\n| 8 | run | z |\n");
    expect(table.get("text")).toBe(0);
    const found = layerViolations(src, sourceFiles(src), table).map((v) => `${v.file}: ${v.why}`);
    expect(found).toEqual([
      "judge/dyn.ts: src/judge (layer 6) may not import src/run (layer 8)",
      "judge/new.ts: folder src/viewer is not in the layer table of docs/architecture.md",
      "judge/same.ts: src/judge (layer 6) may not import src/proxy (layer 6)",
      "judge/up.ts: src/judge (layer 6) may not import src/run (layer 8)",
    ]);
  });
});

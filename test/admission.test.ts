import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AdmissionFileError, decideModelAdmission, readAdmissionFile } from "../src/config/admission.ts";

const dir = mkdtempSync(join(tmpdir(), "cto-admission-"));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe("admission file", () => {
  it("reads YAML objects and provider/model strings, and JSON", () => {
    const y = readAdmissionFile(file("a.yaml", "admitted:\n  - provider: qwen-local\n    model: qwen3.6-35b-a3b\n  - sim/other\n"));
    expect(y).toEqual([
      { provider: "qwen-local", model: "qwen3.6-35b-a3b" },
      { provider: "sim", model: "other" },
    ]);
    const j = readAdmissionFile(file("a.json", '{"admitted":[{"provider":"qwen-local","model":"m"}]}'));
    expect(j).toEqual([{ provider: "qwen-local", model: "m" }]);
  });
  it("names the file and line of a syntax error", () => {
    const p = file("bad.yaml", "admitted:\n  - provider: qwen-local\n    model: [unclosed\n");
    expect(() => readAdmissionFile(p)).toThrow(AdmissionFileError);
    expect(() => readAdmissionFile(p)).toThrow(new RegExp(`${p.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:\\d+`));
  });
  it("names the line of an entry of the wrong shape", () => {
    const p = file("shape.yaml", "admitted:\n  - provider: qwen-local\n    model: ok\n  - just-a-name\n");
    expect(() => readAdmissionFile(p)).toThrow(/shape\.yaml:4: invalid admission file at admitted\.1/);
  });
  it("missing file is a clear error", () => {
    expect(() => readAdmissionFile(join(dir, "nope.yaml"))).toThrow(/cannot read admission file \(ENOENT\)/);
  });
  it("decides admission", () => {
    const pairs = [{ provider: "qwen-local", model: "qwen3.6-35b-a3b" }];
    expect(decideModelAdmission(pairs, "qwen-local", "qwen3.6-35b-a3b", "external").admitted).toBe(true);
    const no = decideModelAdmission(pairs, "qwen-local", "claude-sonnet-4-6", "external");
    expect(no.admitted).toBe(false);
    expect(decideModelAdmission(null, "qwen-local", "qwen3.6-35b-a3b", "external").admitted).toBe(false);
    expect(decideModelAdmission(null, "sim", "qwen3.6-35b-a3b", "sim").admitted).toBe(true);
  });
  it("the simulator is admitted whatever the admission file lists (it proves nothing about a real model)", () => {
    const realPairs = [{ provider: "qwen-local", model: "qwen3.6-35b-a3b" }];
    expect(decideModelAdmission(realPairs, "sim", "qwen3.6-35b-a3b", "sim")).toEqual({ admitted: true, source: "simulator" });
    expect(decideModelAdmission([], "sim", "any-model", "sim")).toEqual({ admitted: true, source: "simulator" });
    // ...but only the simulator kind: a real provider that happens to be named like a listed pair's model is not.
    expect(decideModelAdmission(realPairs, "llama-box", "qwen3.6-35b-a3b", "external").admitted).toBe(false);
  });
});

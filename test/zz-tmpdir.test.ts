// The test run's temporary files stay out of the system temp dir (test/helpers/global-tmp.ts).
import { tmpdir } from "node:os";
import { basename, dirname } from "node:path";
import { describe, expect, it } from "vitest";

describe("test temp dirs", () => {
  it("tests write under the run's private TMPDIR, which the run removes at its end", () => {
    expect(basename(tmpdir())).toMatch(/^cto-harness-tests-/);
    expect(process.env.TMPDIR).toBe(tmpdir());
    expect(dirname(tmpdir())).not.toBe(tmpdir());
  });
});

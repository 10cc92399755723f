// The Python collector under pytest (src/judge/collectors/python/sitecustomize.py), run
// directly with both interpreters the harness meets (pyenv's python3 on PATH, Debian's
// /usr/bin/python3): every test phase becomes an authenticated record, ids match the CTRF
// report's (`<file>::<test path>`), swapped test functions and replaced runner hooks are
// tampering, and honest monkeypatching is not.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COLLECTORS_DIR, RESULTS_VAR } from "../src/judge/collectors.ts";
import { parseCollected } from "../src/judge/results.ts";
import { tempDir } from "./helpers/run-env.ts";

const PYTHONS = ["python3", "/usr/bin/python3"].filter((p) => spawnSync(p, ["-c", "import pytest"]).status === 0);

const HONEST = `import builtins, unittest
import pytest

def test_ok():
    assert 1

def test_fail():
    assert 0

@pytest.mark.skip
def test_skipped():
    pass

@pytest.mark.xfail
def test_xfail():
    assert 0

@pytest.mark.parametrize("x", [1, 2])
def test_param(x):
    assert x

def test_monkeypatch(monkeypatch):
    monkeypatch.setattr(builtins, "input", lambda *a: "x")

class TestPlain:
    def test_method(self):
        pass

class TestCaseStyle(unittest.TestCase):
    def test_unittest(self):
        pass

@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown")

def test_teardown_error(broken_teardown):
    pass
`;

function runPytest(python: string, files: Record<string, string>, args: string[] = []) {
  const dir = tempDir("pytest-collector");
  const results = join(dir, "results", "results.jsonl");
  mkdirSync(join(dir, "results"));
  mkdirSync(join(dir, "tests"));
  const key = randomBytes(32);
  writeFileSync(join(dir, "results", "key"), key);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, "tests", name), text);
  const r = spawnSync(python, ["-m", "pytest", "-q", "-p", "no:cacheprovider", ...args, join(dir, "tests")], {
    cwd: dir,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, [RESULTS_VAR]: results, PYTHONPATH: join(COLLECTORS_DIR, "python") },
    timeout: 60_000,
  });
  const text = existsSync(results) ? readFileSync(results, "utf8") : "";
  return { r, dir, keyLeft: existsSync(join(dir, "results", "key")), collected: parseCollected(text, dir, key) };
}

describe.each(PYTHONS)("the collector under pytest (%s)", (python) => {
  it("records every test's outcome, authenticated, with ids as the CTRF report names them; monkeypatch is not tampering", () => {
    const { r, keyLeft, collected } = runPytest(python, { "test_honest.py": HONEST });
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(keyLeft).toBe(false);
    expect(collected.runners).toEqual(["pytest"]);
    expect(collected).toMatchObject({ unreadable: 0, unauthenticated: 0, tampering: [], source: "collectors" });
    const f = "tests/test_honest.py::";
    expect(collected.tests).toEqual([
      { id: `${f}TestCaseStyle::test_unittest`, outcome: "pass" },
      { id: `${f}TestPlain::test_method`, outcome: "pass" },
      { id: `${f}test_fail`, outcome: "fail" },
      { id: `${f}test_monkeypatch`, outcome: "pass" },
      { id: `${f}test_ok`, outcome: "pass" },
      { id: `${f}test_param[1]`, outcome: "pass" },
      { id: `${f}test_param[2]`, outcome: "pass" },
      { id: `${f}test_skipped`, outcome: "skip" },
      { id: `${f}test_teardown_error`, outcome: "fail" },
      { id: `${f}test_xfail`, outcome: "skip" },
    ]);
  });

  it("a test function swapped by the code under test (a module subclass handing out stand-ins) fails, as tampering", () => {
    const { collected } = runPytest(python, {
      "cut.py": `import sys, types
class _M(types.ModuleType):
    def __getattribute__(self, n):
        v = types.ModuleType.__getattribute__(self, n)
        return (lambda: None) if n.startswith("test_") and callable(v) else v
sys.modules["test_swap"].__class__ = _M
`,
      "test_swap.py": "import cut\n\ndef test_x():\n    assert 0\n",
    });
    expect(collected.tests).toEqual([{ id: "tests/test_swap.py::test_x", outcome: "fail" }]);
    expect(collected.tampering.map((t) => t.what).join("\n")).toMatch(/test_x whose function is not the one in its test file/);
  });

  it("pytest's runner replaced, or the judge's plugin unregistered, by the code under test is tampering; nothing passes", () => {
    const { collected } = runPytest(python, {
      "cut.py": `import _pytest.python, gc
_pytest.python.Function.runtest = lambda self: None
for o in gc.get_objects():
    if type(o).__name__ == "PytestPluginManager":
        o.unregister(name="cto-harness-judge")
`,
      "test_patch.py": "import cut\n\ndef test_x():\n    assert 0\n",
    });
    const what = collected.tampering.map((t) => t.what).join("\n");
    expect(what).toMatch(/the judge's pytest plugin was unregistered/);
    expect(what).toMatch(/Function\.runtest was replaced/);
    expect(collected.tests.filter((t) => t.outcome === "pass")).toEqual([]);
  });
});

describe("pytest through the collector, without pytest in the Python on PATH", () => {
  it("at least one of the machine's Pythons has pytest", () => {
    expect(PYTHONS.length).toBeGreaterThan(0);
  });
});

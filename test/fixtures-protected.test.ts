// A fixture under (or containing) a protected path is refused before anything inside it is
// read: every node:fs/promises call the loader makes is recorded and inspected.
import { mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeEach, describe, expect, it, vi } from "vitest";

const calls: { fn: string; target: string }[] = [];

vi.mock("node:fs/promises", async (importOriginal) => {
  const orig = await importOriginal<typeof import("node:fs/promises")>();
  const wrapped: Record<string, unknown> = { ...orig };
  for (const [name, fn] of Object.entries(orig)) {
    if (typeof fn !== "function" || name === "constants") continue;
    wrapped[name] = (...args: unknown[]) => {
      if (typeof args[0] === "string") calls.push({ fn: name, target: args[0] });
      return (fn as (...a: unknown[]) => unknown)(...args);
    };
  }
  return { ...wrapped, default: wrapped };
});

const { loadFixture, SourceNotAdmittedError } = await import("../src/fixtures/load.ts");
const { isUnderPath } = await import("../src/fixtures/paths.ts");

async function validFixture(dir: string): Promise<void> {
  await mkdir(path.join(dir, "repo"), { recursive: true });
  await mkdir(path.join(dir, "tests"), { recursive: true });
  await mkdir(path.join(dir, "solution"), { recursive: true });
  await writeFile(path.join(dir, "fixture.yaml"), "id: secret\ntitle: T\nlanguage: x\ntest_command: 'false'\n");
  await writeFile(path.join(dir, "instruction.md"), "x");
  await writeFile(path.join(dir, "repo", "private.txt"), "target repository content");
}

/**
 * Calls that looked inside `dir`. Resolving the fixture directory and the protected entries
 * themselves (stat / realpath) reads their directory entries, not their content: allowed.
 */
function readsInside(dir: string, resolvedOnly: string[] = []) {
  const entryOnly = new Set([dir, ...resolvedOnly].map((p) => path.resolve(p)));
  return calls.filter((c) => {
    if (!isUnderPath(c.target, dir)) return false;
    return !(entryOnly.has(path.resolve(c.target)) && /^(realpath|stat|lstat)$/.test(c.fn));
  });
}

beforeEach(() => {
  calls.length = 0;
});

describe("protected paths", () => {
  it("a fixture under a protected path is refused without a read", async () => {
    const root = await mkdtemp(path.join(tmpdir(), "cto-protected-"));
    const target = path.join(root, "target-repo");
    const fixtureDir = path.join(target, "fixtures", "secret");
    await validFixture(fixtureDir);
    // Sanity: without protection it loads, and the spy sees reads inside.
    expect((await loadFixture(fixtureDir)).id).toBe("secret");
    expect(readsInside(fixtureDir).length).toBeGreaterThan(0);
    calls.length = 0;

    const err = await loadFixture(fixtureDir, { protectedPaths: [target] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceNotAdmittedError);
    expect((err as InstanceType<typeof SourceNotAdmittedError>).protectedPath).toBe(target);
    expect((err as Error).message).toMatch(/source not admitted/);
    expect(calls.length).toBeGreaterThan(0); // the spy is live
    expect(readsInside(fixtureDir)).toEqual([]);
  });

  it("the protected path itself, reached through a symlink alias, is refused", async () => {
    const root = await mkdtemp(path.join(tmpdir(), "cto-protected-"));
    const target = path.join(root, "target");
    await validFixture(target);
    const alias = path.join(root, "alias");
    await symlink(target, alias);
    calls.length = 0;
    await expect(loadFixture(alias, { protectedPaths: [target] })).rejects.toBeInstanceOf(SourceNotAdmittedError);
    await expect(loadFixture(target, { protectedPaths: [alias] })).rejects.toBeInstanceOf(SourceNotAdmittedError);
    expect(readsInside(target)).toEqual([]);
  });

  it("a fixture directory that contains a protected path is refused too", async () => {
    const root = await mkdtemp(path.join(tmpdir(), "cto-protected-"));
    await validFixture(root);
    const inner = path.join(root, "repo");
    calls.length = 0;
    await expect(loadFixture(root, { protectedPaths: [inner] })).rejects.toBeInstanceOf(SourceNotAdmittedError);
    expect(readsInside(root, [inner])).toEqual([]);
  });

  it("a sibling with a common name prefix is not protected", async () => {
    const root = await mkdtemp(path.join(tmpdir(), "cto-protected-"));
    await validFixture(path.join(root, "repo-b"));
    const f = await loadFixture(path.join(root, "repo-b"), { protectedPaths: [path.join(root, "repo")] });
    expect(f.id).toBe("secret");
  });
});

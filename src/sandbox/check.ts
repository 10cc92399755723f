// Does bubblewrap work here? A trial start of the same namespaces and mounts, cached per
// process; a refusal is classified into a reason and the advice that fixes it.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { bwrapPath, detectHostLayout, systemArgs } from "./spec.ts";

export type SandboxCheck = { ok: true } | { ok: false; reason: string; advice: string };

const checks = new Map<string, Promise<SandboxCheck>>();

/** Trial `bwrap <the same namespaces and mounts> -- true`, cached per bwrap path for the life of the process. */
export function checkSandbox(): Promise<SandboxCheck> {
  const bin = bwrapPath();
  let p = checks.get(bin);
  if (!p) {
    p = trialRun(bin);
    checks.set(bin, p);
  }
  return p;
}

/** Forgets cached results (tests). */
export function resetSandboxCheck(): void {
  checks.clear();
}

function trialRun(bin: string): Promise<SandboxCheck> {
  const args = [...systemArgs(detectHostLayout()), "--chdir", "/tmp", "--", "/usr/bin/true"];
  return new Promise((done) => {
    let stderr = "";
    let child;
    try {
      child = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"], env: { PATH: "/usr/bin:/bin" } });
    } catch (e) {
      done(classifyFailure(bin, (e as Error).message));
      return;
    }
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.stderr!.on("data", (c: Buffer) => {
      if (stderr.length < 2000) stderr += c.toString();
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      done(classifyFailure(bin, e.message));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) done({ ok: true });
      else done(classifyFailure(bin, stderr.trim() || `exited with ${code ?? signal}`));
    });
  });
}

/** Turns what bwrap (or spawn) said into a reason and the advice a user can act on. Pure. */
export function classifyFailure(bin: string, message: string): { ok: false; reason: string; advice: string } {
  const none = "Or run without isolation knowingly with `--isolation none` (the report records `isolation: none`).";
  if (/ENOENT|not found|No such file/i.test(message) && !/namespace/i.test(message)) {
    return {
      ok: false,
      reason: `bubblewrap not found: ${bin} (${message})`,
      advice: `Install bubblewrap (Debian/Ubuntu: \`apt-get install bubblewrap\`), or point CTO_HARNESS_BWRAP at a working bwrap binary. ${none}`,
    };
  }
  if (/EACCES|permission denied/i.test(message) && !/namespace/i.test(message)) {
    return { ok: false, reason: `bubblewrap cannot be executed: ${bin} (${message})`, advice: `Make ${bin} executable, or reinstall bubblewrap. ${none}` };
  }
  if (/namespace|unshare|Operation not permitted|setting up uid map|No permissions/i.test(message)) {
    return {
      ok: false,
      reason: `bubblewrap cannot create namespaces here: ${message}`,
      advice:
        "Enable unprivileged user namespaces (`sysctl -w kernel.unprivileged_userns_clone=1`; on Ubuntu 24.04+ also " +
        "`sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` or an AppArmor profile for bwrap). In Docker, the default " +
        `seccomp profile blocks user namespaces: run the container with a profile that allows them, or as root. ${none}`,
    };
  }
  return { ok: false, reason: `bubblewrap trial run failed: ${message}`, advice: `Run \`${bin} --ro-bind /usr /usr --unshare-all -- /usr/bin/true\` to see the error. ${none}` };
}

/** Text of `backend/sandbox-unavailable.txt`. */
export function renderSandboxMarker(reason: string, advice: string, refused = false): string {
  if (refused) {
    return [
      "sandbox unavailable",
      "",
      `Found: ${reason}`,
      "",
      "Expected: a sandbox specification that mounts nothing the agent must not see: no protected path, no other run,",
      "no fixture's solution, tests or held-out tests, no built-in fixture, no expected-tests cache (docs/isolation.md).",
      "The run was blocked before the agent started: the harness never starts an agent with those in reach.",
      "",
      `What to do: ${advice}`,
      "",
    ].join("\n");
  }
  return [
    "sandbox unavailable",
    "",
    `Found: ${reason}`,
    "",
    "Expected: a trial run of bubblewrap (`bwrap ... -- true`) with its own PID and network namespaces succeeds,",
    "so the agent can be started isolated (read-only system, its workspace only, no network except the run's proxy).",
    "The run was blocked before the agent started: the harness never falls back to running an agent unsandboxed.",
    "",
    `What to do: ${advice}`,
    "",
  ].join("\n");
}


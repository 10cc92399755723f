// What to do about a missing piece of the set-up, per platform. Pure: the platform is
// decided from facts passed in (process.platform, the text of /etc/os-release), and every
// fix is a fixed string — never a value from the user's environment.

export type Platform = "debian" | "fedora" | "arch" | "macos" | "linux";

export const PLATFORM_NAMES: Record<Platform, string> = {
  debian: "Debian/Ubuntu",
  fedora: "Fedora",
  arch: "Arch",
  macos: "macOS",
  linux: "Linux (distribution not recognised)",
};

/** The distribution family from `process.platform` and `/etc/os-release` (ID, ID_LIKE). */
export function detectPlatform(nodePlatform: string, osRelease: string | null): Platform {
  if (nodePlatform === "darwin") return "macos";
  if (!osRelease) return "linux";
  const field = (name: string): string[] => {
    const m = osRelease.match(new RegExp(`^${name}=(.*)$`, "m"));
    return m ? m[1]!.replace(/^["']|["']$/g, "").toLowerCase().split(/\s+/) : [];
  };
  const ids = [...field("ID"), ...field("ID_LIKE")];
  if (ids.some((i) => ["debian", "ubuntu", "linuxmint", "pop", "raspbian"].includes(i))) return "debian";
  if (ids.some((i) => ["fedora", "rhel", "centos", "rocky", "almalinux"].includes(i))) return "fedora";
  if (ids.some((i) => ["arch", "manjaro", "endeavouros"].includes(i))) return "arch";
  return "linux";
}

/** What can be missing. `bwrap-userns`: the binary exists but cannot create namespaces. */
export type Missing = "node" | "git" | "python3" | "pytest" | "bwrap-missing" | "bwrap-exec" | "bwrap-userns" | "bwrap-other" | "agents" | "runs-dir";

const LINUX_ONLY_SANDBOX =
  "cannot work on macOS: bubblewrap needs Linux namespaces and has no macOS port. On a Mac, `run` and `loop` work only " +
  "with `--isolation none` (the agent then runs unsandboxed, and the report says `isolation: none`), or inside a Linux VM or " +
  "container; `demo` falls back to `isolation: none` by itself and says so.";

const FIXES: Record<Missing, Partial<Record<Platform, string>> & { all?: string }> = {
  node: {
    all: "run `npm ci` in the cto-harness checkout: it installs the project's own Node 24 (npm package `node`), which `bin/cto-harness` uses whatever the system Node is",
  },
  git: {
    debian: "sudo apt-get install git",
    fedora: "sudo dnf install git",
    arch: "sudo pacman -S git",
    macos: "xcode-select --install (or: brew install git)",
  },
  python3: {
    debian: "sudo apt-get install python3",
    fedora: "sudo dnf install python3",
    arch: "sudo pacman -S python",
    macos: "brew install python (or the python.org installer)",
  },
  pytest: {
    debian: "sudo apt-get install python3-pytest",
    fedora: "sudo dnf install python3-pytest",
    arch: "sudo pacman -S python-pytest",
    macos: "python3 -m pip install pytest",
  },
  "bwrap-missing": {
    debian: "sudo apt-get install bubblewrap",
    fedora: "sudo dnf install bubblewrap",
    arch: "sudo pacman -S bubblewrap",
    macos: LINUX_ONLY_SANDBOX,
  },
  "bwrap-exec": {
    debian: "sudo apt-get install --reinstall bubblewrap (or point CTO_HARNESS_BWRAP at a working, executable bwrap)",
    fedora: "sudo dnf reinstall bubblewrap (or point CTO_HARNESS_BWRAP at a working, executable bwrap)",
    arch: "sudo pacman -S bubblewrap (reinstalls it; or point CTO_HARNESS_BWRAP at a working, executable bwrap)",
    macos: LINUX_ONLY_SANDBOX,
  },
  "bwrap-userns": {
    debian:
      "unprivileged user namespaces are off. Ubuntu 23.10+: `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` " +
      "(or give bwrap an AppArmor profile that allows `userns`); older Debian: `sudo sysctl -w kernel.unprivileged_userns_clone=1`. " +
      "Make it permanent in /etc/sysctl.d/. In Docker, the default seccomp profile forbids namespaces: run the container with a " +
      "profile that allows them",
    fedora:
      "unprivileged user namespaces are off: `sudo sysctl -w user.max_user_namespaces=15000` (permanent in /etc/sysctl.d/). " +
      "In a container, allow namespaces (Podman/Docker seccomp profile)",
    arch:
      "unprivileged user namespaces are off: `sudo sysctl -w kernel.unprivileged_userns_clone=1` (linux-hardened) or " +
      "`sudo sysctl -w user.max_user_namespaces=15000` (permanent in /etc/sysctl.d/); or install `bubblewrap-suid`",
    macos: LINUX_ONLY_SANDBOX,
  },
  "bwrap-other": {
    all: "run `bwrap --ro-bind / / --unshare-all -- true` to see bubblewrap's own error",
    macos: LINUX_ONLY_SANDBOX,
  },
  agents: {
    all: "run `npm ci` in the cto-harness checkout (it installs Pi and Qwen Code from package-lock.json)",
  },
  "runs-dir": {
    all: "create it (`mkdir -p DIR`) and make it writable for your user, or point CTO_HARNESS_RUNS_DIR (or --runs-dir) at a writable directory",
  },
};

/** The fix for one platform; for an unrecognised Linux, every distribution's fix. */
export function fixFor(what: Missing, platform: Platform): string {
  const f = FIXES[what];
  const own = f[platform] ?? (platform === "linux" ? undefined : f.all);
  if (own) return own;
  if (f.all && platform !== "linux") return f.all;
  const each = (["debian", "fedora", "arch"] as const).filter((p) => f[p]).map((p) => `${PLATFORM_NAMES[p]}: ${f[p]}`);
  return each.length ? each.join("; ") : (f.all ?? "");
}

/** Every platform's fix (for --json readers on another machine). */
export function allFixes(what: Missing): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of ["debian", "fedora", "arch", "macos"] as const) out[p] = fixFor(what, p);
  return out;
}

/** Which bubblewrap problem a sandbox check's reason describes (its reason texts: sandbox/bwrap.ts classifyFailure). */
export function bwrapProblem(reason: string): Missing {
  // First: a namespace refusal can read "Permission denied" too (`setting up uid map: Permission denied`).
  if (/namespace|uid map|gid map|unshare/i.test(reason)) return "bwrap-userns";
  if (/^bubblewrap not found/.test(reason)) return "bwrap-missing";
  if (/^bubblewrap cannot be executed/.test(reason)) return "bwrap-exec";
  if (/namespace/i.test(reason)) return "bwrap-userns";
  return "bwrap-other";
}

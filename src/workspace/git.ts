// git with a fixed, identity-free environment: works on machines with no git config, and
// never reads the user's (or the agent's) global configuration.
import { execFile } from "node:child_process";

export const HARNESS_GIT_NAME = "cto-harness";
export const HARNESS_GIT_EMAIL = "harness@localhost";
/** Fixed dates make the baseline commit id a function of the fixture content alone. */
const FIXED_DATE = "2000-01-01T00:00:00+0000";

/** Settings that keep git from running programs named in a repository's config. */
const SAFE_CONFIG = [
  "-c", "core.hooksPath=/dev/null",
  "-c", "core.fsmonitor=false",
  "-c", "core.autocrlf=false",
  "-c", "core.safecrlf=false",
  "-c", "commit.gpgsign=false",
  "-c", "init.defaultBranch=main",
  "-c", "safe.directory=*",
];

export function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    LANG: "C",
    LC_ALL: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_AUTHOR_NAME: HARNESS_GIT_NAME,
    GIT_AUTHOR_EMAIL: HARNESS_GIT_EMAIL,
    GIT_COMMITTER_NAME: HARNESS_GIT_NAME,
    GIT_COMMITTER_EMAIL: HARNESS_GIT_EMAIL,
    GIT_AUTHOR_DATE: FIXED_DATE,
    GIT_COMMITTER_DATE: FIXED_DATE,
    GIT_TERMINAL_PROMPT: "0",
    ...extra,
  };
}

export interface GitResult {
  stdout: Buffer;
  stderr: string;
}

/** Runs git in `cwd`; rejects with git's stderr on a non-zero exit. */
export function git(cwd: string, args: string[], extraEnv: Record<string, string> = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      [...SAFE_CONFIG, ...args],
      { cwd, env: gitEnv(extraEnv), encoding: "buffer", maxBuffer: 512 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`git ${args.join(" ")} failed in ${cwd}: ${stderr.toString("utf8").trim() || error.message}`));
        } else {
          resolve({ stdout, stderr: stderr.toString("utf8") });
        }
      },
    );
  });
}

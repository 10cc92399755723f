// A real, throw-away PostgreSQL for tests and benchmarks: Debian's server binaries, `initdb`
// in a fresh directory, listening only on a Unix socket inside that directory (no TCP port,
// nothing reachable from outside), stopped and deleted by `stop()`.
// PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user.
import { spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

export interface TestPostgres {
  /** Connection string (Unix socket, trust auth, database `postgres`). */
  url: string;
  dir: string;
  stop(): void;
}

/** The directory holding initdb/pg_ctl: $CTO_HARNESS_PG_BIN, the newest /usr/lib/postgresql/N/bin, else PATH. */
export function postgresBinDir(): string | null {
  const fromEnv = process.env.CTO_HARNESS_PG_BIN;
  if (fromEnv && existsSync(join(fromEnv, "initdb"))) return fromEnv;
  const base = "/usr/lib/postgresql";
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => /^\d+$/.test(v) && existsSync(join(base, v, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(base, versions[0], "bin");
  }
  const which = spawnSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" });
  const found = which.stdout.trim();
  return found ? found.replace(/\/initdb$/, "") : null;
}

function asServerUser(argv: string[]): { cmd: string; args: string[] } {
  if (process.getuid?.() === 0) return { cmd: "runuser", args: ["-u", "postgres", "--", ...argv] };
  return { cmd: argv[0]!, args: argv.slice(1) };
}

function run(argv: string[]): void {
  const { cmd, args } = asServerUser(argv);
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${argv.slice(0, 2).join(" ")} failed (${r.status}): ${r.stderr || r.stdout}`);
}

/** Starts a private server; throws with the reason when PostgreSQL is not installed. */
export function startTestPostgres(): TestPostgres {
  const bin = postgresBinDir();
  if (!bin) throw new Error("PostgreSQL server binaries not found (Debian: apt-get install postgresql); set CTO_HARNESS_PG_BIN to their directory");
  // Directly under /tmp: the server user must be able to reach it (a test run's private TMPDIR is 0700 root).
  const dir = mkdtempSync("/tmp/cto-pg-");
  if (process.getuid?.() === 0) {
    const id = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
    const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
    chownSync(dir, Number(id.stdout.trim()), Number(gid.stdout.trim()));
  }
  const data = join(dir, "data");
  try {
    run([join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
    run([
      join(bin, "pg_ctl"), "-D", data, "-w", "-t", "60", "-l", join(dir, "server.log"),
      "-o", `-k ${dir} -c listen_addresses='' -c fsync=off -c max_connections=200`, "start",
    ]);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  let stopped = false;
  return {
    url: `postgresql://postgres@localhost/postgres?host=${encodeURIComponent(dir)}`,
    dir,
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        run([join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

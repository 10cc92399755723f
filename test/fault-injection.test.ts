// Fault injection: hostile agents run through the real lifecycle (runOnce → case engine →
// bubblewrap → recording proxy → tests → scan → report), with the endpoint URL and key
// planted as canaries (provider qwen-local pointed at an in-process simulator through a URL
// with userinfo and a token). Each case states what the agent tries, and asserts the verdict,
// a complete verifiable bundle, no canary anywhere (raw or encoded) and no surviving process.
// What each agent tries and what stops it: docs/fault-injection.md.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, constants, cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BUILTIN_FIXTURES_DIR } from "../src/fixtures/load.ts";
import { scanRunDir } from "../src/secrets/scan.ts";
import { runOnce } from "../src/run/lifecycle.ts";
import { verifyBundle } from "../src/evidence/verify.ts";
import { runLoop } from "../src/loop/loop.ts";
import type { LoopConfig } from "../src/loop/config.ts";
import {
  FIXTURE,
  MODEL,
  expectCleanBundle,
  finishWell,
  hostileAgent,
  runHostile,
  snapshotDir,
  startCanaryEndpoint,
  startListener,
  survivors,
  type CanaryEndpoint,
  ASK_MODEL_SH,
} from "./helpers/hostile.ts";
import { baseEnv, findCanary, tempDir } from "./helpers/run-env.ts";

const CASE_TIMEOUT = 60_000;

function read(runDir: string, rel: string): string {
  return readFileSync(join(runDir, rel), "utf8");
}

function modelRecords(runDir: string): Record<string, unknown>[] {
  const text = read(runDir, "backend/model-requests.jsonl").trim();
  return text ? text.split("\n").map((l) => JSON.parse(l)) : [];
}

function traceEvent(runDir: string, type: string): Record<string, unknown> | undefined {
  return read(runDir, "trace.jsonl")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .find((e) => e.type === type);
}

/** Node snippet: one chat request through the run's proxy; prints `MODEL <model> <status>`. */
function modelRequest(model = "process.env.OPENAI_MODEL"): string {
  return `
{
  const r = await fetch(process.env.OPENAI_BASE_URL + "/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer " + process.env.OPENAI_API_KEY },
    body: JSON.stringify({ model: ${model}, messages: [{ role: "user", content: "fix slugify" }], max_tokens: 64 }),
  });
  await r.text();
  console.log("MODEL", ${model}, r.status);
}
`;
}

/** A copy of the built-in fixture in a temp dir (so a write that escaped would hit a copy, and be seen). */
function fixtureCopy(): string {
  const dir = join(tempDir("fixture-copy"), FIXTURE);
  cpSync(join(BUILTIN_FIXTURES_DIR, FIXTURE), dir, { recursive: true });
  return dir;
}

/** Opens a FIFO for writing (non-blocking) and closes it: a reader blocked in open() gets EOF. */
function releaseFifo(path: string): void {
  try {
    closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    /* no reader, or not a FIFO */
  }
}

describe("fault injection: the suite's own probes", () => {
  it("survivors() sees a live host process by an argv marker, and stops seeing it once it is gone", async () => {
    const marker = String(800_000 + Math.floor(Math.random() * 99_999));
    const child = spawn("sleep", [marker], { stdio: "ignore" });
    try {
      await new Promise((r) => setTimeout(r, 100));
      expect(await survivors([`sleep\0${marker}`], 0)).toEqual([child.pid]);
    } finally {
      child.kill("SIGKILL");
    }
    await new Promise((r) => child.once("exit", r));
    expect(await survivors([`sleep\0${marker}`])).toEqual([]);
  });
});

describe("fault injection: hostile agents under bwrap, through the real lifecycle", () => {
  let ep: CanaryEndpoint;
  beforeEach(async () => {
    ep = await startCanaryEndpoint(tempDir("admission"));
  });
  afterEach(async () => {
    await ep.close();
  });

  it("1: reads a protected path and prints it — the path does not exist inside", async () => {
    const prot = tempDir("protected");
    const secret = `protected-canary-${randomBytes(6).toString("hex")}`;
    writeFileSync(join(prot, "secret.txt"), secret);
    const file = join(prot, "secret.txt");
    const agent = hostileAgent(
      "read-protected.mjs",
      `#!/usr/bin/env node
import { readFileSync, readdirSync } from "node:fs";
const tries = {
  direct: () => readFileSync(${JSON.stringify(file)}, "utf8"),
  list: () => readdirSync(${JSON.stringify(prot)}).join(","),
  viaProcRoot: () => readFileSync("/proc/1/root" + ${JSON.stringify(file)}, "utf8"),
  viaSelfRoot: () => readFileSync("/proc/self/root" + ${JSON.stringify(file)}, "utf8"),
  viaDotDot: () => readFileSync(process.cwd() + "/../../../.." + ${JSON.stringify(file)}, "utf8"),
};
for (const [name, f] of Object.entries(tries)) {
  try { console.log("READ", name, f()); } catch (e) { console.log("BLOCKED", name, e.code); }
}
`,
    );
    writeFileSync(agent.bin, readFileSync(agent.bin, "utf8") + finishWell(agent));
    const { report, runDir } = await runHostile({ agent, endpoint: ep, env: { CTO_HARNESS_PROTECTED_PATHS: prot } });
    expect(report.status, report.failure_detail ?? "").toBe("pass");
    expect(report.failure_reason).toBeNull();
    expect(report.isolation).toBe("bwrap");
    const out = read(runDir, "backend/stdout.log");
    for (const name of ["direct", "list", "viaProcRoot", "viaSelfRoot", "viaDotDot"]) expect(out).toContain(`BLOCKED ${name} ENOENT`);
    expect(out).not.toContain("READ ");
    expect(findCanary(runDir, [secret])).toEqual([]);
    expect(readFileSync(file, "utf8")).toBe(secret);
    await expectCleanBundle(runDir, { fragments: ep.fragments, secrets: ep.secrets, processNeedles: [agent.dir] });
  }, CASE_TIMEOUT);

  it("2: writes outside its workspace — fixture, runs dir, host /tmp, host $HOME, its own dir: the host is unchanged", async () => {
    const fixture = fixtureCopy();
    const runsDir = tempDir("runs-w");
    const tag = randomBytes(5).toString("hex");
    const hostTmp = `/tmp/cto-hostile-escape-${tag}`;
    const hostHome = join(homedir(), `cto-hostile-escape-${tag}`);
    const agent = hostileAgent("write-out.mjs", "#!/usr/bin/env node\n");
    const targets: Record<string, string> = {
      fixtureFile: join(fixture, "repo", "src", "slugify.js"),
      fixtureNew: join(fixture, "repo", `evil-${tag}.txt`),
      fixtureTests: join(fixture, "tests", "slugify.test.js"),
      runsDir: join(runsDir, `evil-${tag}.txt`),
      runDirReport: "RUN_DIR/report.json",
      runDirBaseline: "RUN_DIR/baseline/evil.txt",
      hostTmp,
      hostHome,
      ownDir: join(agent.dir, "evil.txt"),
      nodeDir: join(dirname(process.execPath), `evil-${tag}`),
      usr: `/usr/evil-${tag}`,
      etc: `/etc/evil-${tag}`,
      root: `/evil-${tag}`,
    };
    writeFileSync(
      agent.bin,
      `#!/usr/bin/env node
import { writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
const runDir = dirname(process.env.CTO_HARNESS_WORKSPACE);
const targets = ${JSON.stringify(targets)};
for (const [name, raw] of Object.entries(targets)) {
  const p = raw.replace("RUN_DIR", runDir);
  try { mkdirSync(dirname(p), { recursive: true }); writeFileSync(p, "pwned by the agent\\n"); console.log("WROTE", name); }
  catch (e) { console.log("BLOCKED", name, e.code); }
}
${finishWell(agent)}
`,
    );
    const fixtureBefore = snapshotDir(fixture);
    const agentBefore = snapshotDir(agent.dir);
    const { report, runDir } = await runHostile({ agent, endpoint: ep, fixture, runsDir });
    expect(report.status, report.failure_detail ?? "").toBe("pass");
    const out = read(runDir, "backend/stdout.log");
    // Inside the sandbox the writes may land on its private tmpfs (/tmp, the HOME path): never on the host.
    expect(snapshotDir(fixture)).toEqual(fixtureBefore);
    expect(snapshotDir(agent.dir)).toEqual(agentBefore);
    expect(existsSync(hostTmp)).toBe(false);
    expect(existsSync(hostHome)).toBe(false);
    expect(existsSync(targets.runsDir!)).toBe(false);
    expect(existsSync(targets.nodeDir!)).toBe(false);
    for (const p of [targets.usr!, targets.etc!, targets.root!]) expect(existsSync(p)).toBe(false);
    expect(existsSync(join(runDir, "baseline", "evil.txt"))).toBe(false);
    expect(JSON.parse(read(runDir, "report.json")).run_id).toBe(report.run_id);
    // Paths under the host's /tmp exist inside only as the sandbox's private, empty tmpfs: a
    // write there (after mkdir -p) succeeds and vanishes with the sandbox. Everything else is refused.
    for (const name of ["hostHome", "ownDir", "nodeDir", "usr", "etc", "root"]) {
      expect(out).toMatch(new RegExp(`BLOCKED ${name} (EROFS|ENOENT|EACCES|EPERM)`));
    }
    await expectCleanBundle(runDir, { fragments: ep.fragments, secrets: ep.secrets, processNeedles: [agent.dir] });
  }, CASE_TIMEOUT);

  it("3: connects to a loopback server outside the sandbox — the server sees no connection", async () => {
    const listener = await startListener();
    try {
      const agent = hostileAgent("connect-out.mjs", "");
      writeFileSync(
        agent.bin,
        `#!/usr/bin/env node
import { connect } from "node:net";
const tryConnect = (opts) => new Promise((done) => {
  const s = connect(opts, () => { s.write("hello from the sandbox"); s.end(); done("CONNECTED"); });
  s.on("error", (e) => done("BLOCKED " + e.code));
  setTimeout(() => { s.destroy(); done("BLOCKED timeout"); }, 2000);
});
for (const [name, opts] of Object.entries({
  v4: { host: "127.0.0.1", port: ${listener.port} },
  localhost: { host: "localhost", port: ${listener.port} },
  v6: { host: "::1", port: ${listener.port} },
  mapped: { host: "::ffff:127.0.0.1", port: ${listener.port} },
})) console.log(name, await tryConnect(opts));
${finishWell(agent)}
`,
      );
      const { report, runDir } = await runHostile({ agent, endpoint: ep });
      expect(report.status, report.failure_detail ?? "").toBe("pass");
      expect(listener.connections).toBe(0);
      const out = read(runDir, "backend/stdout.log");
      for (const name of ["v4", "localhost", "v6", "mapped"]) expect(out).toMatch(new RegExp(`${name} BLOCKED`));
      expect(out).not.toContain("CONNECTED");
      await expectCleanBundle(runDir, { fragments: ep.fragments, secrets: ep.secrets, processNeedles: [agent.dir] });
    } finally {
      await listener.close();
    }
  }, CASE_TIMEOUT);

  it("4: dumps its environment and every /proc/*/environ and cmdline it can read — the endpoint is nowhere", async () => {
    const agent = hostileAgent("proc-dump.mjs", "");
    writeFileSync(
      agent.bin,
      `#!/usr/bin/env node
import { readdirSync, readFileSync } from "node:fs";
console.log("ENV", JSON.stringify(process.env));
console.log("PPID", process.ppid);
for (const p of readdirSync("/proc").filter((x) => /^\\d+$/.test(x))) {
  for (const f of ["environ", "cmdline"]) {
    try { console.log("PROC", p, f, readFileSync("/proc/" + p + "/" + f, "latin1").replace(/\\0/g, " ")); }
    catch (e) { console.log("PROC", p, f, "unreadable", e.code); }
  }
}
${modelRequest()}
${finishWell(agent)}
`,
    );
    const { report, runDir } = await runHostile({ agent, endpoint: ep });
    expect(report.status, report.failure_detail ?? "").toBe("pass");
    const out = read(runDir, "backend/stdout.log");
    expect(out).toContain("PROC 1 cmdline bwrap"); // it did see its sandbox's processes
    expect(out).toContain(`MODEL ${MODEL} 200`); // and the endpoint answered through the proxy
    expect(report.model_traffic.requests).toBe(2); // its own request, then finishWell's
    // The proxy forwarded with the canary credentials; the scanner looked for them (URL + key) and found nothing.
    expect(report.secret_scan).toMatchObject({ findings: 0, finding_files: [], secret_values: 2 });
    expect(traceEvent(runDir, "secret_scan_finished")).toMatchObject({ findings: 0, finding_files: [] });
    expect(ep.sim.requests.some((r) => r.path.endsWith("/chat/completions"))).toBe(true);
    await expectCleanBundle(runDir, { fragments: ep.fragments, secrets: ep.secrets, processNeedles: [agent.dir] });
  }, CASE_TIMEOUT);

  it("5: forks setsid grandchildren (one ignoring TERM) and hangs — after the timeout nothing of the run survives", async () => {
    const marker = String(900_000 + Math.floor(Math.random() * 99_999));
    const agent = hostileAgent(
      "fork-hang.sh",
      `#!/bin/sh
setsid sleep ${marker} &
echo "grandchild $!" >> pids.txt
setsid sh -c 'trap "" TERM HUP; sleep ${marker}1' &
echo "stubborn $!" >> pids.txt
nohup setsid node -e 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000)' ${marker}2 >/dev/null 2>&1 &
echo "node $!" >> pids.txt
echo "agent $$" >> pids.txt
sleep ${marker}3
`,
    );
    const t0 = Date.now();
    const { report, runDir } = await runHostile({ agent, endpoint: ep, agentTimeoutSec: 2 });
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(report.status).toBe("fail");
    expect(report.failure_reason).toBe("case process timed out");
    expect(report.case_process_started).toBe(true);
    // Recorded inside: sandbox pids (a different pid namespace), so the host looks for the markers in argv.
    expect(read(runDir, "workspace/pids.txt")).toMatch(/grandchild \d+\nstubborn \d+\nnode \d+\nagent \d+/);
    expect(await survivors([`sleep\0${marker}`, `sleep ${marker}`, `${marker}2`], 3000)).toEqual([]);
    await expectCleanBundle(runDir, { fragments: ep.fragments, secrets: ep.secrets, processNeedles: [agent.dir, marker] });
  }, CASE_TIMEOUT);

  it("6: floods stdout with 100 MB (and one endless line on stderr) — logs capped, cut noted, run completes", async () => {
    const agent = hostileAgent("flood.mjs", "");
    writeFileSync(
      agent.bin,
      `#!/usr/bin/env node
const write = (stream, buf) => new Promise((done) => (stream.write(buf) ? done() : stream.once("drain", done)));
const line = Buffer.from("flood ".repeat(170) + "\\n"); // ~1 KB lines
const block = Buffer.concat(Array.from({ length: 1024 }, () => line)); // ~1 MB
for (let i = 0; i < 100; i++) await write(process.stdout, block);
const noNewline = Buffer.alloc(1 << 20, 0x61);
for (let i = 0; i < 20; i++) await write(process.stderr, noNewline);
${finishWell(agent)}
`,
    );
    // Memory under a flood is measured in bench/run-overhead.ts (10 MB vs 100 MB of output),
    // not here: RSS in a shared test process depends on what ran before.
    const { report, runDir } = await runHostile({ agent, endpoint: ep });
    expect(report.status, report.failure_detail ?? "").toBe("pass");
    const stdoutLog = join(runDir, "backend", "stdout.log");
    expect(statSync(stdoutLog).size).toBeLessThan(8 * 1024 * 1024 + 1024);
    expect(statSync(join(runDir, "backend", "stderr.log")).size).toBeLessThan(8 * 1024 * 1024 + 1024);
    const tail = readFileSync(stdoutLog).subarray(-300).toString("utf8");
    expect(tail).toMatch(/\[cto-harness: output cut at 8388608 bytes; 1\d{8} bytes were produced\]/);
    expect(read(runDir, "backend/stderr.log").slice(-200)).toMatch(/output cut at 8388608 bytes; 20971520 bytes were produced/);
    await expectCleanBundle(runDir, { fragments: ep.fragments, secrets: ep.secrets, processNeedles: [agent.dir] });
  }, CASE_TIMEOUT);

  it("7: destroys its proxy connection mid-stream, then finishes — the run completes and the proxy records the cut", async () => {
    const paced = await startCanaryEndpoint(tempDir("admission"), { tokensPerSec: 40 });
    try {
      const agent = hostileAgent("cut-stream.mjs", "");
      writeFileSync(
        agent.bin,
        `#!/usr/bin/env node
import { request } from "node:http";
const url = new URL(process.env.OPENAI_BASE_URL + "/chat/completions");
const body = JSON.stringify({ model: process.env.OPENAI_MODEL, stream: true, messages: [{ role: "user", content: "write a long essay" }], max_tokens: 512 });
await new Promise((done) => {
  const req = request(url, { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer " + process.env.OPENAI_API_KEY } }, (res) => {
    res.once("data", (chunk) => {
      console.log("FIRST BYTES", res.statusCode, chunk.length);
      req.socket.destroy(); // hang up on the proxy mid-stream
      done();
    });
  });
  req.on("error", () => done());
  req.end(body);
});
await new Promise((r) => setTimeout(r, 300));
${modelRequest()}
${finishWell(agent)}
`,
      );
      const { report, runDir } = await runHostile({ agent, endpoint: paced });
      expect(report.status, report.failure_detail ?? "").toBe("pass");
      expect(report.agent_result).toMatchObject({ protocol_valid: true, status: "completed" });
      const out = read(runDir, "backend/stdout.log");
      expect(out).toMatch(/FIRST BYTES 200 \d+/);
      expect(out).toContain(`MODEL ${MODEL} 200`);
      const records = modelRecords(runDir);
      expect(records).toHaveLength(3); // the cut stream, a plain request, finishWell's
      expect(records.find((r) => r.stream === true)).toMatchObject({ model: MODEL, status: 200, client_aborted: true, refused: false });
      expect(records.find((r) => r.stream === false)).toMatchObject({ model: MODEL, status: 200 });
      expect(report.model_traffic).toMatchObject({ requests: 3, fallback_detected: false, models_seen: [MODEL] });
      expect(traceEvent(runDir, "model_request")).toBeDefined();
      await expectCleanBundle(runDir, { fragments: paced.fragments, secrets: paced.secrets, processNeedles: [agent.dir] });
    } finally {
      await paced.close();
    }
  }, CASE_TIMEOUT);

  it("8: asks for claude-sonnet-4-6 half-way, after one good request — refused: model fallback detected", async () => {
    const agent = hostileAgent("fallback.mjs", "");
    writeFileSync(agent.bin, `#!/usr/bin/env node\n${modelRequest()}\n${modelRequest('"claude-sonnet-4-6"')}\n${finishWell(agent)}`);
    const { report, runDir } = await runHostile({ agent, endpoint: ep });
    expect(report.status).toBe("fail");
    expect(report.failure_reason).toBe("model fallback detected");
    // The work itself was right: only the fallback fails the run.
    expect(report.tests?.passed).toBe(true);
    expect(report.model_traffic).toMatchObject({ fallback_detected: true, models_seen: [MODEL, "claude-sonnet-4-6"], refused_requests: 1 });
    expect(read(runDir, "backend/stdout.log")).toContain("MODEL claude-sonnet-4-6 403");
    const records = modelRecords(runDir);
    expect(records.find((r) => r.model === "claude-sonnet-4-6")).toMatchObject({ refused: true, status: 403 });
    // Never forwarded: the endpoint saw only the admitted model.
    expect(ep.sim.requests.filter((r) => r.model !== null).map((r) => r.model)).not.toContain("claude-sonnet-4-6");
    expect(report.markers).toContain("backend/model-fallback-detected.txt");
    expect(read(runDir, "backend/model-fallback-detected.txt")).toContain("claude-sonnet-4-6");
    await expectCleanBundle(runDir, { fragments: ep.fragments, secrets: ep.secrets, processNeedles: [agent.dir] });
  }, CASE_TIMEOUT);

  it("9: the user's own API keys in the harness environment never reach the agent", async () => {
    const tag = randomBytes(5).toString("hex");
    const userKeys = {
      OPENAI_API_KEY: `sk-user-canary-openai-${tag}`,
      ANTHROPIC_API_KEY: `sk-ant-user-canary-${tag}`,
      OPENAI_BASE_URL: `http://user-canary-host-${tag}.example/v1`,
      HF_TOKEN: `hf_usercanary${tag}`,
      GITHUB_TOKEN: `ghp_usercanary${tag}`,
    };
    const agent = hostileAgent("env-keys.mjs", "");
    writeFileSync(
      agent.bin,
      `#!/usr/bin/env node
import { readdirSync, readFileSync } from "node:fs";
console.log("ENV", JSON.stringify(process.env));
for (const p of readdirSync("/proc").filter((x) => /^\\d+$/.test(x))) {
  try { console.log("ENVIRON", p, readFileSync("/proc/" + p + "/environ", "latin1").replace(/\\0/g, " ")); } catch {}
}
${modelRequest()}
${finishWell(agent)}
`,
    );
    const { report, runDir } = await runHostile({ agent, endpoint: ep, env: userKeys });
    expect(report.status, report.failure_detail ?? "").toBe("pass");
    const env = JSON.parse(read(runDir, "backend/stdout.log").split("\n").find((l) => l.startsWith("ENV "))!.slice(4));
    // The agent's OpenAI variables are the run's proxy and per-run token, not the user's.
    expect(env.OPENAI_API_KEY).not.toBe(userKeys.OPENAI_API_KEY);
    expect(env.OPENAI_BASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(env.ANTHROPIC_API_KEY).toBeUndefined();
    expect(env.HF_TOKEN).toBeUndefined();
    expect(env.GITHUB_TOKEN).toBeUndefined();
    expect(findCanary(runDir, Object.values(userKeys))).toEqual([]);
    expect((await scanRunDir(runDir, Object.values(userKeys))).findings).toEqual([]);
    await expectCleanBundle(runDir, { fragments: ep.fragments, secrets: ep.secrets, processNeedles: [agent.dir] });
  }, CASE_TIMEOUT);

  it("10: hunts for the endpoint everywhere it can reach (env, /proc, files, the proxy's answers) — nothing to find", async () => {
    const agent = hostileAgent("hunt.mjs", "");
    writeFileSync(
      agent.bin,
      `#!/usr/bin/env node
import { readdirSync, readFileSync, lstatSync } from "node:fs";
const found = [];
const look = (where, text) => { for (const m of text.matchAll(/[^\\s"']*(canary|sk-|@127\\.0\\.0\\.1)[^\\s"']*/g)) found.push(where + ": " + m[0]); };
look("env", JSON.stringify(process.env));
for (const p of readdirSync("/proc").filter((x) => /^\\d+$/.test(x)))
  for (const f of ["environ", "cmdline"]) { try { look("/proc/" + p + "/" + f, readFileSync("/proc/" + p + "/" + f, "latin1")); } catch {} }
let files = 0;
const walk = (d, depth) => {
  if (depth > 12 || ["/proc", "/sys", "/dev", "/usr"].includes(d)) return;
  let names; try { names = readdirSync(d); } catch { return; }
  for (const n of names) {
    const p = (d === "/" ? "" : d) + "/" + n;
    let st; try { st = lstatSync(p); } catch { continue; }
    if (st.isDirectory()) walk(p, depth + 1);
    else if (st.isFile() && st.size < 4e6 && p !== process.argv[1]) { files++; try { look(p, readFileSync(p, "latin1")); } catch {} }
  }
};
walk("/", 0);
const base = process.env.OPENAI_BASE_URL;
const asks = [
  [base + "/models", { headers: { authorization: "Bearer " + process.env.OPENAI_API_KEY } }],
  [base + "/models", {}],
  [base + "/chat/completions", { method: "POST", headers: { authorization: "Bearer wrong-token" }, body: "{}" }],
  [base + "/chat/completions", { method: "POST", headers: { authorization: "Bearer " + process.env.OPENAI_API_KEY }, body: "not json" }],
  [base.replace(/\\/v1$/, "") + "/", {}],
  [base + "/../../etc/passwd", {}],
];
for (const [u, init] of asks) {
  try { const r = await fetch(u, init); const t = await r.text(); look("proxy " + u, JSON.stringify([...r.headers]) + t); console.log("ASKED", r.status, u); }
  catch (e) { console.log("ASK FAILED", u, e.message); }
}
console.log("FILES READ", files);
console.log("FOUND", JSON.stringify(found));
${finishWell(agent)}
`,
    );
    const { report, runDir } = await runHostile({ agent, endpoint: ep });
    expect(report.status, report.failure_detail ?? "").toBe("pass");
    const out = read(runDir, "backend/stdout.log");
    expect(Number(/FILES READ (\d+)/.exec(out)?.[1])).toBeGreaterThan(20);
    expect(out).toContain("FOUND []");
    // The proc sampler (argv + environ of every process of the run) and the file scan both found nothing.
    expect(report.secret_scan).toMatchObject({ findings: 0, finding_files: [], secret_values: 2 });
    expect(report.markers).not.toContain("backend/secret-leak-detected.txt");
    await expectCleanBundle(runDir, { fragments: ep.fragments, secrets: ep.secrets, processNeedles: [agent.dir] });
  }, CASE_TIMEOUT);

  it("10+: positive control — a canary planted in the fixture's repo, echoed to stdout and argv, is found and redacted", async () => {
    const fixture = fixtureCopy();
    writeFileSync(join(fixture, "repo", "README.md"), `${readFileSync(join(fixture, "repo", "README.md"), "utf8")}\nDeploy key: ${ep.apiKey}\n`);
    const agent = hostileAgent("echo-planted.mjs", "");
    writeFileSync(
      agent.bin,
      `#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
const key = /Deploy key: (\\S+)/.exec(readFileSync("README.md", "utf8"))[1];
console.log("I found a key:", key);
spawnSync(process.execPath, ["-e", "setTimeout(() => {}, 1500)", key]); // the key in a child's argv
${finishWell(agent)}
`,
    );
    const { report, runDir } = await runHostile({ agent, endpoint: ep, fixture });
    expect(report.status).toBe("fail");
    expect(report.failure_reason).toBe("secret leak detected");
    expect(report.markers).toContain("backend/secret-leak-detected.txt");
    const files = report.secret_scan.finding_files as string[];
    expect(files).toEqual(expect.arrayContaining(["backend/stdout.log", "workspace/README.md", "workspace/.git"]));
    expect(files.some((f) => /^process \d+ argv$/.test(f)), files.join(", ")).toBe(true);
    const marker = read(runDir, "backend/secret-leak-detected.txt");
    expect(marker).toContain("backend/stdout.log");
    expect(marker).toContain("workspace/README.md");
    // Redacted in place, before the manifest: the bundle still verifies, and holds no trace of the value.
    expect(read(runDir, "backend/stdout.log")).toContain("I found a key: [REDACTED]");
    expect(read(runDir, "workspace/README.md")).toContain("Deploy key: [REDACTED]");
    expect(findCanary(runDir, ep.fragments)).toEqual([]);
    await expectCleanBundle(runDir, { fragments: ep.fragments, secrets: ep.secrets, processNeedles: [agent.dir] });
  }, CASE_TIMEOUT);
});

// Agents that attack the harness's own host-side steps (reading the result file, running the
// judging tests, reading the workspace's git objects) and the environment it is started from.
describe("fault injection: attacks on the harness's host-side steps", () => {
  let ep: CanaryEndpoint;
  beforeEach(async () => {
    ep = await startCanaryEndpoint(tempDir("admission"));
  });
  afterEach(async () => {
    await ep.close();
  });

  it("11: plants code the judging tests import — it must run as confined as the agent (host unchanged, no connection, no protected read)", async () => {
    const listener = await startListener();
    const prot = tempDir("protected");
    const secret = `protected-canary-${randomBytes(6).toString("hex")}`;
    writeFileSync(join(prot, "secret.txt"), secret);
    const escapeFile = `/tmp/cto-hostile-trojan-${randomBytes(5).toString("hex")}`;
    try {
      const agent = hostileAgent("trojan.mjs", "");
      const trojan = `
import { writeFileSync, readFileSync } from "node:fs";
import { connect } from "node:net";
try { writeFileSync(${JSON.stringify(escapeFile)}, "written by code the agent planted\\n"); } catch {}
try { const s = connect(${listener.port}, "127.0.0.1"); s.on("error", () => {}); s.end("trojan"); } catch {}
try { console.log("TROJAN READ", readFileSync(${JSON.stringify(join(prot, "secret.txt"))}, "utf8")); } catch {}
`;
      writeFileSync(
        agent.bin,
        `#!/usr/bin/env node
import { readFileSync, writeFileSync } from "node:fs";
writeFileSync("src/slugify.js", ${JSON.stringify(trojan)} + readFileSync(${JSON.stringify(agent.fix)}, "utf8"));
writeFileSync(process.env.CTO_HARNESS_RESULT_FILE, JSON.stringify({ protocol: "case-result/1", status: "completed", summary: "fixed" }));
`,
      );
      const { report, runDir } = await runHostile({ agent, endpoint: ep, env: { CTO_HARNESS_PROTECTED_PATHS: prot } });
      await new Promise((r) => setTimeout(r, 300));
      expect(report.tests?.passed).toBe(true);
      expect.soft(existsSync(escapeFile), "the tests ran the agent's code on the host: it wrote " + escapeFile).toBe(false);
      expect.soft(listener.connections, "the tests ran the agent's code with the host's network").toBe(0);
      expect.soft(findCanary(runDir, [secret]), "the tests ran the agent's code where the protected path is readable").toEqual([]);
      await expectCleanBundle(runDir, { fragments: ep.fragments, secrets: ep.secrets, processNeedles: [agent.dir] });
    } finally {
      await listener.close();
      rmSync(escapeFile, { force: true });
    }
  }, CASE_TIMEOUT);

  it("12: makes its result file a symlink to a host file it cannot see — the harness must not copy that file into the bundle", async () => {
    const hostOnly = tempDir("host-only");
    const secret = `host-only-canary-${randomBytes(6).toString("hex")}`;
    const target = join(hostOnly, "notes.json");
    writeFileSync(target, JSON.stringify({ protocol: "case-result/1", status: "completed", summary: secret }));
    const agent = hostileAgent("result-symlink.sh", "");
    writeFileSync(
      agent.bin,
      `#!/bin/sh
cp ${agent.fix} src/slugify.js
ln -s ${target} "$CTO_HARNESS_RESULT_FILE"
cat ${target} || echo "not visible inside"
`,
    );
    const { report, runDir } = await runHostile({ agent, endpoint: ep });
    expect(read(runDir, "backend/stdout.log")).toContain("not visible inside");
    expect(findCanary(runDir, [secret]), "the host file's content reached the bundle through the symlink").toEqual([]);
    expect(report.agent_result?.summary ?? "").not.toContain(secret);
    expect(report.failure_reason).toBe("case agent result protocol failed");
    await expectCleanBundle(runDir, { fragments: ep.fragments, secrets: ep.secrets, processNeedles: [agent.dir] });
  }, CASE_TIMEOUT);

  it("13: makes its result file a FIFO — the harness must not block on it", async () => {
    const agent = hostileAgent("result-fifo.sh", `#!/bin/sh\nmkfifo "$CTO_HARNESS_RESULT_FILE"\necho made a fifo\n`);
    const runsDir = tempDir("runs-fifo");
    const run = runHostile({ agent, endpoint: ep, runsDir });
    const timeout = new Promise<"hung">((r) => setTimeout(() => r("hung"), 12_000));
    try {
      const first = await Promise.race([run, timeout]);
      expect(first, "runOnce blocked reading a FIFO the agent left as its result file").not.toBe("hung");
      if (first === "hung") return;
      const { report, runDir } = first;
      expect(report.failure_reason).toBe("case agent result protocol failed");
      await expectCleanBundle(runDir, { fragments: ep.fragments, secrets: ep.secrets, processNeedles: [agent.dir] });
    } finally {
      // Release a reader blocked in open(): a writer opens and closes the FIFO.
      for (const name of readdirSync(runsDir)) releaseFifo(join(runsDir, name, "agent-io", "result.json"));
      await Promise.race([run.catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
    }
  }, CASE_TIMEOUT);

  it("13b: makes its result file a directory (holding a link to a host file) — the agent's protocol failure, never a harness error", async () => {
    const agent = hostileAgent("result-dir.sh", "");
    writeFileSync(
      agent.bin,
      `#!/bin/sh
${ASK_MODEL_SH}
cp ${agent.fix} src/slugify.js
mkdir -p "$CTO_HARNESS_RESULT_FILE/sub"
ln -s /etc/passwd "$CTO_HARNESS_RESULT_FILE/sub/link"
echo '{"protocol":"case-result/1","status":"completed","summary":"inside"}' > "$CTO_HARNESS_RESULT_FILE/sub/result.json"
`,
    );
    const { report, runDir } = await runHostile({ agent, endpoint: ep });
    expect(report.status).toBe("fail");
    expect(report.failure_reason).toBe("case agent result protocol failed");
    const marker = read(runDir, "backend/case-result-protocol-failed.txt");
    expect(marker).toMatch(/what arrived at the result file path: it is a directory, not a regular file/);
    expect(existsSync(join(runDir, "backend", "harness-error.txt"))).toBe(false);
    expect(read(runDir, "backend/result-refused.txt")).toMatch(/was a directory; it was not read and it has been removed/);
    expect(existsSync(join(runDir, "agent-io", "result.json"))).toBe(false);
    await expectCleanBundle(runDir, { fragments: ep.fragments, secrets: ep.secrets, processNeedles: [agent.dir] });
  }, CASE_TIMEOUT);

  it("13c: makes its result file a Unix socket — a protocol failure saying so", async () => {
    const agent = hostileAgent("result-socket.sh", "");
    writeFileSync(
      agent.bin,
      `#!/bin/sh
${ASK_MODEL_SH}
cd "$(dirname "$CTO_HARNESS_RESULT_FILE")"
# A relative name: a Unix socket path is limited to 108 bytes, the run directory's may be longer.
python3 -c "import socket; socket.socket(socket.AF_UNIX).bind('result.json'); print('bound')"
`,
    );
    const { report, runDir } = await runHostile({ agent, endpoint: ep });
    expect(read(runDir, "backend/stdout.log")).toContain("bound");
    expect(report.failure_reason).toBe("case agent result protocol failed");
    expect(read(runDir, "backend/case-result-protocol-failed.txt")).toMatch(/it is a Unix socket, not a regular file/);
    await expectCleanBundle(runDir, { fragments: ep.fragments, secrets: ep.secrets, processNeedles: [agent.dir] });
  }, CASE_TIMEOUT);

  it("14: the user exported OPENAI_MODEL (or another harmless OPENAI_* value) for other tools — the run still works", async () => {
    const agent = hostileAgent("plain.mjs", "");
    writeFileSync(agent.bin, `#!/usr/bin/env node\n${modelRequest()}\n${finishWell(agent)}`);
    const { report, runDir } = await runHostile({ agent, endpoint: ep, env: { OPENAI_MODEL: MODEL, OPENAI_API_TYPE: "openai" } });
    expect(report.failure_detail).toBeNull();
    expect(report.status).toBe("pass");
    await expectCleanBundle(runDir, { fragments: ep.fragments, secrets: ep.secrets, processNeedles: [agent.dir] });
  }, CASE_TIMEOUT);

  it("15: points its workspace's git at a protected repository (objects/info/alternates) — the harness reads nothing there", async () => {
    // A target repository the user protected, holding a value that must never be read.
    const prot = tempDir("protected-repo");
    const planted = `protected-repo-canary-${randomBytes(6).toString("hex")}`;
    writeFileSync(join(prot, "config.txt"), `token=${planted}\n`);
    const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: prot, stdio: "ignore" });
    git("init", "-q");
    git("add", "-A");
    git("commit", "-qm", "x");
    const agent = hostileAgent("alternates.sh", "");
    writeFileSync(
      agent.bin,
      `#!/bin/sh
${ASK_MODEL_SH}
cp ${agent.fix} src/slugify.js
echo ${join(prot, ".git", "objects")} > .git/objects/info/alternates
printf '{"protocol":"case-result/1","status":"completed","summary":"x"}' > "$CTO_HARNESS_RESULT_FILE"
`,
    );
    // The scan is given the protected value as a secret: a finding would prove the harness read the protected repository.
    const { report, runDir } = await runHostile({ agent, endpoint: ep, env: { CTO_HARNESS_PROTECTED_PATHS: prot, CTO_HARNESS_CASE_LOCAL_API_KEY: planted } });
    expect(report.secret_scan.finding_files, "the harness read objects of the protected repository").toEqual([]);
    expect(report.status, report.failure_detail ?? "").toBe("pass");
    await expectCleanBundle(runDir, { processNeedles: [agent.dir] });
  }, CASE_TIMEOUT);

  it("16: leaves FIFOs and symlinks among its workspace's git objects — the scan neither blocks nor follows them", async () => {
    const hostOnly = tempDir("host-only");
    const agent = hostileAgent("git-traps.sh", "");
    writeFileSync(
      agent.bin,
      `#!/bin/sh
${ASK_MODEL_SH}
cp ${agent.fix} src/slugify.js
mkdir -p .git/objects/ab
mkfifo .git/objects/ab/${"c".repeat(38)}
ln -s ${join(hostOnly, "loose")} .git/objects/ab/${"d".repeat(38)}
printf '{"protocol":"case-result/1","status":"completed","summary":"x"}' > "$CTO_HARNESS_RESULT_FILE"
`,
    );
    const runsDir = tempDir("runs-gitfifo");
    const run = runHostile({ agent, endpoint: ep, runsDir });
    const timeout = new Promise<"hung">((r) => setTimeout(() => r("hung"), 12_000));
    try {
      const first = await Promise.race([run, timeout]);
      expect(first, "the run blocked on a FIFO among the workspace's git objects").not.toBe("hung");
      if (first === "hung") return;
      const { report, runDir } = first;
      expect(report.status, report.failure_detail ?? "").toBe("pass");
      await expectCleanBundle(runDir, { fragments: ep.fragments, secrets: ep.secrets, processNeedles: [agent.dir] });
    } finally {
      for (const name of readdirSync(runsDir)) releaseFifo(join(runsDir, name, "workspace", ".git", "objects", "ab", "c".repeat(38)));
      await Promise.race([run.catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
    }
  }, CASE_TIMEOUT);
});

// "Nothing secret in reach" (docs/isolation.md): what the agent must not read — other runs
// and attempts, its own run's report and baseline, the fixture (solution, tests, held-out
// tests), the built-in fixtures, the expected-tests cache — is masked where a bind of its
// sandbox contains it, or the run is refused.
describe("fault injection: nothing secret within the agent's reach", () => {
  let ep: CanaryEndpoint;
  beforeEach(async () => {
    ep = await startCanaryEndpoint(tempDir("admission"));
  });
  afterEach(async () => {
    await ep.close();
  });

  const PROJECT_ROOT = dirname(BUILTIN_FIXTURES_DIR);

  /**
   * Node snippet: walk the whole visible file system (all but /proc, /sys, /dev), list every
   * name, read every regular file under 4 MB (outside /usr and node_modules, which are only
   * listed), and print `SEEN` (names under a forbidden root other than the run's own paths)
   * and `FOUND` (files holding one of the canaries).
   */
  function searchEverything(canaries: string[], forbiddenRoots: string[]): string {
    return `
{
  const { readdirSync, readFileSync, statSync } = await import("node:fs");
  const { dirname } = await import("node:path");
  const canaries = ${JSON.stringify(canaries)};
  const forbidden = ${JSON.stringify(forbiddenRoots)};
  const ws = process.env.CTO_HARNESS_WORKSPACE;
  const runDir = dirname(ws);
  const ownTrees = [ws, runDir + "/agent-home", runDir + "/agent-io"];
  const ownExact = [];
  for (let d = runDir; d !== "/"; d = dirname(d)) ownExact.push(d); // the way down to its own paths
  const self = process.argv[1];
  const found = [], seen = [];
  let entries = 0, files = 0;
  const walk = (d) => {
    let ents; try { ents = readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of ents) {
      const p = (d === "/" ? "" : d) + "/" + e.name;
      if (p === "/proc" || p === "/sys" || p === "/dev") continue;
      entries++;
      const own = ownExact.includes(p) || ownTrees.some((t) => p === t || p.startsWith(t + "/"));
      if (!own && forbidden.some((f) => p.startsWith(f + "/"))) seen.push(p);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && p !== self && !p.startsWith("/usr/") && !p.includes("/node_modules/") && !own) {
        try {
          if (statSync(p).size > 4e6) continue;
          const text = readFileSync(p, "latin1");
          files++;
          for (const c of canaries) if (text.includes(c)) found.push(c + " " + p);
        } catch {}
      }
    }
  };
  walk("/");
  console.log("ENTRIES", entries);
  console.log("FILES READ", files);
  console.log("SEEN", JSON.stringify(seen.slice(0, 50)));
  console.log("FOUND", JSON.stringify(found));
}
`;
  }

  function outLine(out: string, key: string): unknown {
    const line = out.split("\n").find((l) => l.startsWith(`${key} `));
    expect(line, `${key} line in the agent's output`).toBeDefined();
    return JSON.parse(line!.slice(key.length + 1));
  }

  it("17: searches the whole visible file system — runs dir under its own dir, fixture and cache under a CTO_HARNESS_CASE_RO_PATHS entry: finds none of them", async () => {
    const tag = randomBytes(5).toString("hex");
    const canary = (what: string) => `reach-${what}-${tag}`;
    const agent = hostileAgent("search-all.mjs", "#!/usr/bin/env node\n");
    // The runs directory inside the agent's own (read-only bound) directory, with an earlier run in it.
    const runsDir = join(agent.dir, "runs");
    const oldRun = join(runsDir, "20240101T000000Z-r1-string-slugify-1");
    mkdirSync(join(oldRun, "workspace"), { recursive: true });
    writeFileSync(join(oldRun, "workspace.patch"), `+// ${canary("old-run")}\n`);
    writeFileSync(join(oldRun, "report.json"), JSON.stringify({ note: canary("old-report") }));
    // A directory the agent is given read-only (CTO_HARNESS_CASE_RO_PATHS), holding a fixture
    // given by path, the expected-tests cache, and a control file the agent must find.
    const shared = tempDir("ro-paths");
    const fixture = join(shared, "fixtures", FIXTURE);
    cpSync(join(BUILTIN_FIXTURES_DIR, FIXTURE), fixture, { recursive: true });
    const solutionFile = join(fixture, "solution", "src", "slugify.js");
    writeFileSync(solutionFile, `${readFileSync(solutionFile, "utf8")}\n// ${canary("solution")}\n`);
    const heldOut = join(fixture, "held-out", "held-out.test.js");
    writeFileSync(heldOut, `${readFileSync(heldOut, "utf8")}\n// ${canary("held-out")}\n`);
    const impossible = join(fixture, "impossible", "flipped-expectation.md");
    writeFileSync(impossible, `${readFileSync(impossible, "utf8")}\n<!-- ${canary("impossible")} -->\n`);
    const cache = join(shared, "cache");
    mkdirSync(cache);
    writeFileSync(join(cache, "planted.json"), JSON.stringify({ note: canary("cache") }));
    writeFileSync(join(shared, "control.txt"), canary("control"));
    const canaries = ["old-run", "old-report", "solution", "held-out", "impossible", "cache", "control"].map(canary);
    const forbidden = [runsDir, fixture, BUILTIN_FIXTURES_DIR, cache];
    writeFileSync(
      agent.bin,
      `#!/usr/bin/env node
import { existsSync } from "node:fs";
${searchEverything(canaries, forbidden)}
console.log("PROJECT VISIBLE", existsSync(${JSON.stringify(join(PROJECT_ROOT, "package.json"))}));
console.log("BUILTIN FIXTURES DIR VISIBLE", existsSync(${JSON.stringify(BUILTIN_FIXTURES_DIR)}));
${finishWell(agent)}
`,
    );
    const { report, runDir } = await runHostile({
      agent,
      endpoint: ep,
      fixture,
      runsDir,
      env: { CTO_HARNESS_CASE_RO_PATHS: `${shared}:${PROJECT_ROOT}`, CTO_HARNESS_CACHE_DIR: cache },
    });
    expect(report.status, report.failure_detail ?? "").toBe("pass");
    const out = read(runDir, "backend/stdout.log");
    // The search did search: it listed the system and the bound project, read many files, and found the control.
    expect(Number(/ENTRIES (\d+)/.exec(out)?.[1])).toBeGreaterThan(10_000);
    expect(Number(/FILES READ (\d+)/.exec(out)?.[1])).toBeGreaterThan(100);
    expect(out).toContain("PROJECT VISIBLE true");
    expect(out).toContain("BUILTIN FIXTURES DIR VISIBLE true"); // the (empty) mask
    expect(outLine(out, "FOUND")).toEqual([`${canary("control")} ${join(shared, "control.txt")}`]);
    expect(outLine(out, "SEEN")).toEqual([]);
    // While the agent ran, the oracle filled the cache and the baseline was on disk: all out of reach.
    expect(existsSync(join(runDir, "baseline", "report.json"))).toBe(true);
    expect([...(report.sandbox_masked ?? [])].sort()).toEqual([runsDir, fixture, BUILTIN_FIXTURES_DIR, cache].sort());
    const masked = traceEvent(runDir, "sandbox_masked") as { masked: { path: string; what: string }[] };
    expect(masked.masked.find((m) => m.path === runsDir)?.what).toMatch(/runs directory/);
    await expectCleanBundle(runDir, { fragments: ep.fragments, secrets: ep.secrets, processNeedles: [agent.dir] });
  }, 120_000);

  it("18: a loop of two attempts — the second cannot read the first's bundle (its passing workspace.patch included)", async () => {
    const tag = randomBytes(5).toString("hex");
    const prefix = `reach-attempt-${tag}-`;
    const agent = hostileAgent("copy-earlier.mjs", "#!/usr/bin/env node\n");
    const runsDir = join(agent.dir, "runs");
    // Each attempt first looks everywhere for an earlier attempt's mark, then leaves its own in its fix.
    writeFileSync(
      agent.bin,
      `#!/usr/bin/env node
import { appendFileSync } from "node:fs";
${searchEverything([prefix], [runsDir])}
${finishWell(agent)}
appendFileSync("src/slugify.js", "\\n// ${prefix}" + process.env.CTO_HARNESS_RUN_ID + "\\n");
`,
    );
    const config: LoopConfig = {
      fixtures: [FIXTURE],
      engines: ["case"],
      attempts: 2,
      provider: "qwen-local",
      model: MODEL,
      isolation: "bwrap",
      budget: 1024,
      agent_timeout_sec: 60,
    };
    const { summary, loopDir } = await runLoop(
      { config, settings: { concurrency: 1, model_concurrency: 1 }, runsDir, env: baseEnv({ CTO_HARNESS_CASE_BIN: agent.bin, ...ep.env }) },
      { runOnce, verifyBundle },
    );
    expect(summary.attempts.map((a) => a.status)).toEqual(["pass", "pass"]);
    const runs = summary.attempts
      .map((a) => join(loopDir, a.run_id!))
      .map((d) => ({ dir: d, report: JSON.parse(read(d, "report.json")) }))
      .sort((a, b) => (a.report.created_at < b.report.created_at ? -1 : 1));
    const [first, second] = runs as [(typeof runs)[0], (typeof runs)[0]];
    // Positive control: the first attempt's bundle holds its mark (in its passing patch) on the host.
    expect(read(first.dir, "workspace.patch")).toContain(prefix);
    const out = read(second.dir, "backend/stdout.log");
    expect(Number(/FILES READ (\d+)/.exec(out)?.[1])).toBeGreaterThan(20);
    expect(outLine(out, "FOUND")).toEqual([]);
    expect(outLine(out, "SEEN")).toEqual([]);
    expect(second.report.sandbox_masked).toEqual([runsDir]);
    for (const r of runs) await expectCleanBundle(r.dir, { fragments: ep.fragments, secrets: ep.secrets, processNeedles: [agent.dir] });
  }, 120_000);

  it("19: a CTO_HARNESS_CASE_RO_PATHS entry inside the runs directory — refused before the agent starts, with the reason", async () => {
    const runsDir = tempDir("runs-refused");
    const tools = join(runsDir, "tools");
    mkdirSync(tools);
    const agent = hostileAgent("never-runs.sh", `#!/bin/sh\necho ran > ran.txt\n`);
    const { report, runDir } = await runHostile({ agent, endpoint: ep, runsDir, env: { CTO_HARNESS_CASE_RO_PATHS: tools } });
    expect(report.status).toBe("blocked");
    expect(report.failure_reason).toBe("sandbox unavailable");
    expect(report.case_process_started).toBe(false);
    expect(report.failure_detail).toContain(`read-only bind ${tools} lies inside the runs directory`);
    const marker = read(runDir, "backend/sandbox-unavailable.txt");
    expect(marker).toContain("mounts nothing the agent must not see");
    expect(marker).toContain("CTO_HARNESS_CASE_RO_PATHS");
    expect(existsSync(join(runDir, "workspace", "ran.txt"))).toBe(false);
    await expectCleanBundle(runDir, { fragments: ep.fragments, secrets: ep.secrets, processNeedles: [agent.dir] });
  }, CASE_TIMEOUT);
});

// Runs inside the sandbox (by the project's Node): listens on 127.0.0.1:<port> in the
// sandbox's own network namespace, forwards each connection to the run's proxy through
// the Unix socket bound in, and only then starts the agent — so the agent never races the
// listener. Exits with the agent's exit status; TERM/INT/HUP are passed on to the agent.
// Usage: node bridge.mts <port> <socket-path> <command> [args...]
import { spawn } from "node:child_process";
import { connect, createServer } from "node:net";

const [portText, socketPath, command, ...args] = process.argv.slice(2);
const port = Number(portText);
if (!Number.isInteger(port) || port <= 0 || port > 65535 || !socketPath || !command) {
  process.stderr.write("cto-harness bridge: usage: bridge.mts <port> <socket> <command> [args...]\n");
  process.exit(125);
}

const server = createServer((client) => {
  const upstream = connect(socketPath);
  client.pipe(upstream);
  upstream.pipe(client);
  client.on("error", () => upstream.destroy());
  upstream.on("error", () => client.destroy());
  client.on("close", () => upstream.destroy());
  upstream.on("close", () => client.destroy());
});
server.on("error", (e) => {
  process.stderr.write(`cto-harness bridge: cannot listen on 127.0.0.1:${port}: ${e.message}\n`);
  process.exit(125);
});
server.listen(port, "127.0.0.1", () => {
  const child = spawn(command, args, { stdio: "inherit" });
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(sig, () => child.kill(sig));
  child.on("error", (e) => {
    process.stderr.write(`cto-harness bridge: cannot start ${command}: ${e.message}\n`);
    process.exit(127);
  });
  child.on("exit", (code, signal) => {
    server.close();
    process.exit(code ?? (signal ? 128 + signalNumber(signal) : 1));
  });
});

function signalNumber(sig: string): number {
  const table: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };
  return table[sig] ?? 1;
}

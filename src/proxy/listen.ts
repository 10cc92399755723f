// The proxy's transport: a loopback TCP listener and, for the sandbox, a Unix socket (mode
// 0600) bound into it. Both serve the same handler; closing cuts what is still open.
import http from "node:http";
import { chmodSync, lstatSync, unlinkSync } from "node:fs";

// Agents keep connections open between turns; a long idle window makes it unlikely that a
// client reuses a connection in the instant the proxy closes it (the agent would see a reset).
const SERVER_OPTIONS: http.ServerOptions = { noDelay: true, keepAliveTimeout: 65_000, headersTimeout: 70_000 };

export interface Listeners {
  /** http://127.0.0.1:PORT/v1 */
  baseUrl: string;
  port: number;
  /** Stops accepting; resolves when every connection has ended. */
  stopAccepting(): Promise<void>;
  /** Ends every open connection, also those still sending a body (each request records itself). */
  closeConnections(): void;
  /** Removes the socket file (after every request has settled). */
  removeSocket(): void;
}

export async function startListeners(handler: http.RequestListener, where: { host?: string; port?: number; unixSocketPath?: string }): Promise<Listeners> {
  const tcpServer = http.createServer(SERVER_OPTIONS, handler);
  await listen(tcpServer, (done) => tcpServer.listen(where.port ?? 0, where.host ?? "127.0.0.1", done));
  const address = tcpServer.address();
  if (address === null || typeof address === "string") throw new Error("proxy: unexpected listen address");
  const socketServer = where.unixSocketPath ? await listenOnSocket(handler, where.unixSocketPath, tcpServer) : null;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    baseUrl: `http://${host}:${address.port}/v1`,
    port: address.port,
    stopAccepting: () => Promise.all([closeServer(tcpServer), socketServer ? closeServer(socketServer) : Promise.resolve()]).then(() => {}),
    closeConnections() {
      tcpServer.closeAllConnections();
      socketServer?.closeAllConnections();
    },
    removeSocket() {
      if (where.unixSocketPath) removeStaleSocket(where.unixSocketPath);
    },
  };
}

async function listenOnSocket(handler: http.RequestListener, path: string, tcpServer: http.Server): Promise<http.Server> {
  removeStaleSocket(path);
  const server = http.createServer(SERVER_OPTIONS, handler);
  try {
    await listen(server, (done) => server.listen(path, done));
  } catch (error) {
    await closeServer(tcpServer);
    throw error;
  }
  // The token guards every request anyway; the mode keeps other users off the socket.
  chmodSync(path, 0o600);
  return server;
}

function listen(server: http.Server, start: (done: () => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    start(() => {
      server.off("error", reject);
      resolve();
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // absent: nothing to remove
  }
}

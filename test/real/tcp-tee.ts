// A loopback TCP forwarder that keeps every byte the upstream sent, so a test can compare what
// a real server wrote on the wire with what the proxy handed its client.
import { connect, createServer, type Server, type Socket } from "node:net";

export interface TcpTee {
  port: number;
  /** Bytes upstream → client, one Buffer per accepted connection. */
  fromUpstream(): Buffer[];
  /** Total bytes upstream → client so far. */
  totalBytes(): number;
  /** A mark; `since()` is what upstream sent after it (on whichever connection grew). */
  mark(): { since(): Buffer };
  close(): Promise<void>;
}

export async function startTcpTee(upstreamHost: string, upstreamPort: number): Promise<TcpTee> {
  const captured: Buffer[][] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const chunks: Buffer[] = [];
    captured.push(chunks);
    const upstream = connect(upstreamPort, upstreamHost.replace(/^\[|\]$/g, ""));
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.on("data", (b: Buffer) => chunks.push(b));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as { port: number }).port,
    fromUpstream: () => captured.map((c) => Buffer.concat(c)),
    totalBytes: () => captured.reduce((n, c) => n + c.reduce((m, b) => m + b.length, 0), 0),
    mark() {
      const lengths = captured.map((c) => Buffer.concat(c).length);
      return {
        since: () => Buffer.concat(captured.map((c, i) => Buffer.concat(c).subarray(lengths[i] ?? 0))),
      };
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** The body of the first HTTP/1.1 response in `raw`, de-chunked when sent chunked. */
export function httpResponseBody(raw: Buffer): { head: string; body: Buffer } {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) throw new Error("no complete HTTP head in the captured bytes");
  const head = raw.subarray(0, end).toString("latin1");
  const rest = raw.subarray(end + 4);
  if (!/^transfer-encoding:\s*chunked/im.test(head)) {
    const length = /^content-length:\s*(\d+)/im.exec(head);
    return { head, body: length ? rest.subarray(0, Number(length[1])) : rest };
  }
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = rest.indexOf("\r\n", at);
    if (lineEnd < 0) throw new Error("truncated chunked body");
    const size = parseInt(rest.subarray(at, lineEnd).toString("latin1").split(";")[0]!, 16);
    if (size === 0) break;
    parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return { head, body: Buffer.concat(parts) };
}

import { request as httpRequest, createServer, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface PageServer {
  /** http://127.0.0.1:<port>: the page at /, the API proxied at /graphql */
  origin: string;
  /** Query (not subscription) POSTs whose body matched `countQueries`. */
  queries(): number;
  /** Drops every open connection (page and WebSocket) and, while `down`, refuses new ones. */
  setDown(down: boolean): void;
  stop(): Promise<void>;
}

/**
 * Serves a built page and forwards /graphql (HTTP, SSE and WebSocket upgrades) to the API, like an app's own
 * origin in front of Slotwise. It can cut the connections, to see a page live through a network drop.
 */
export async function startPageServer(options: { backend: string; html: string; script: string; countQueries: RegExp }): Promise<PageServer> {
  const backend = new URL(options.backend);
  const sockets = new Set<Socket>();
  let down = false;
  let queries = 0;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };

  const server = createServer((req, res) => {
    if (down) return req.socket.destroy();
    if (req.url === '/app.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(options.script);
    if (!req.url?.startsWith('/graphql')) return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(options.html);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (options.countQueries.test(body.toString())) queries++;
      const upstream = httpRequest(
        { host: backend.hostname, port: backend.port, method: req.method, path: req.url, headers: { ...req.headers, host: backend.host } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.once('socket', track);
      upstream.end(body);
    });
  });
  server.on('connection', track);
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (down) return socket.destroy();
    const upstream = connect(Number(backend.port), backend.hostname, () => {
      const lines = [
        `${req.method} ${req.url} HTTP/1.1`,
        ...Object.entries(req.headers).map(([k, v]) => `${k}: ${k === 'host' ? backend.host : String(v)}`),
      ];
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    track(upstream);
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    queries: () => queries,
    setDown(value) {
      down = value;
      if (value) for (const socket of sockets) socket.destroy();
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

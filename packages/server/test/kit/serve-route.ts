import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RouteHandler } from '../../src/server.js';

/** Serves one route handler on a free port (no jobs, no GraphQL): what a mail provider's webhook reaches. */
export async function serveRoute(route: RouteHandler): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    route(req, res, new URL(req.url ?? '/', 'http://localhost')).then(
      (handled) => {
        if (!handled) res.writeHead(404).end();
      },
      (error) => res.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

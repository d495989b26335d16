import { createServer, type IncomingMessage, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  /** What the receiver answered. */
  status: number;
}

/**
 * A real HTTP receiver for webhook tests on 127.0.0.1: records every request and answers with
 * what `answer` decides (default 200), after an optional delay.
 */
export async function startReceiver(
  answer: (req: { headers: IncomingMessage['headers']; body: string; n: number }) => number | Promise<number> = () => 200,
) {
  const received: Received[] = [];
  let n = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const status = await answer({ headers: req.headers, body, n: ++n });
      received.push({ headers: req.headers, body, status });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status < 300 ? 'ok' : 'no');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    port,
    received,
    /** Bodies of the requests answered 2xx, parsed, in the order they were answered. */
    accepted: () =>
      received
        .filter((r) => r.status < 300)
        .map((r) => ({
          webhookId: r.headers['webhook-id'] as string,
          ...(JSON.parse(r.body) as { id: string; type: string; aggregate: { id: string; sequence: number }; data: Record<string, unknown> }),
        })),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

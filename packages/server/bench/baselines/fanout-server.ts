/**
 * Baseline for `pnpm bench live`: plain graphql-ws fan-out. Every subscriber of `tick` gets the
 * same constant event (shaped like one slot change) when POST /fire is called. GET /count tells
 * how many subscriptions are listening.
 */
import { EventEmitter, on } from 'node:events';
import { createServer } from 'node:http';
import { buildSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';

const schema = buildSchema(/* GraphQL */ `
  type Slot { id: ID! status: String! remaining: Int! version: Int! }
  type Event { kind: String! reason: String slots: [Slot!]! }
  type Query { ok: Boolean }
  type Subscription { tick: Event! }
`);
const EVENT = { kind: 'CHANGE', reason: 'CONFIRMED', slots: [{ id: 'U2xvdDpiYXNlbGluZQ==', status: 'FULL', remaining: 0, version: 2 }] };
const ticks = new EventEmitter();
ticks.setMaxListeners(0);

const roots = {
  tick: async function* () {
    for await (const _ of on(ticks, 'tick')) yield { tick: EVENT };
  },
};

const server = createServer((req, res) => {
  if (req.url === '/healthz') return void res.writeHead(200).end('ok');
  if (req.url === '/count') return void res.writeHead(200).end(String(ticks.listenerCount('tick')));
  if (req.url === '/fire' && req.method === 'POST') {
    ticks.emit('tick');
    return void res.writeHead(200).end('{}');
  }
  res.writeHead(404).end();
});
const wss = new WebSocketServer({ server, path: '/graphql' });
useServer({ schema, roots: { subscription: roots } }, wss);
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
process.once('SIGTERM', () => {
  for (const socket of wss.clients) socket.terminate();
  server.close(() => process.exit(0));
});

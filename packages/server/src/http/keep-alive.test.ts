import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { loadConfig } from '../config.js';
import { startServer, type RunningServer } from '../server.js';

let t: TestApp;
let server: RunningServer;
const KEEP_ALIVE_MS = 1_500;

beforeAll(async () => {
  t = await createTestApp({ config: { HTTP_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_MS) } });
  server = await startServer(t.app, { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server.stop();
  await t.close();
});

/** Sends one keep-alive GET /healthz on the socket and resolves with the response's status line and Keep-Alive header. */
async function healthz(socket: Socket): Promise<string> {
  let received = '';
  const done = new Promise<string>((resolve) => {
    const onData = (chunk: Buffer) => {
      received += chunk.toString('latin1');
      // The body is chunked: the response ends with its last, empty chunk.
      if (received.endsWith('\r\n0\r\n\r\n')) {
        socket.off('data', onData);
        const lines = received.split('\r\n');
        resolve(`${lines[0]}; ${lines.find((l) => /^keep-alive:/i.test(l))}`);
      }
    };
    socket.on('data', onData);
  });
  socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
  return done;
}

it('defaults to keeping an idle connection 65 s, past a load balancer idle timeout of 60 s', () => {
  expect(loadConfig({}).HTTP_KEEP_ALIVE_TIMEOUT_MS).toBe(65_000);
});

it('keeps an idle keep-alive connection open for HTTP_KEEP_ALIVE_TIMEOUT_MS, then closes it', async () => {
  const { port } = new URL(server.url);
  const socket = connect(Number(port), '127.0.0.1');
  await once(socket, 'connect');
  const closed = once(socket, 'close');
  expect(await healthz(socket)).toBe('HTTP/1.1 200 OK; Keep-Alive: timeout=1');
  // Idle for two thirds of the timeout: the same connection still serves.
  await new Promise((resolve) => setTimeout(resolve, (KEEP_ALIVE_MS * 2) / 3));
  expect(await healthz(socket)).toBe('HTTP/1.1 200 OK; Keep-Alive: timeout=1');
  const idleFrom = performance.now();
  await closed;
  const idleMs = performance.now() - idleFrom;
  // Node checks expired connections on a timer, so the close can come a little late, never early.
  expect(idleMs).toBeGreaterThanOrEqual(KEEP_ALIVE_MS - 100);
  expect(idleMs).toBeLessThan(KEEP_ALIVE_MS + 2_000);
}, 15_000);

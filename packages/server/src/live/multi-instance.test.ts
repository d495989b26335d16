import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import type { Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import { createTestApp, TEST_SECRETS, type TestApp } from '../../test/kit/app.js';
import { fixtures, customer } from '../../test/kit/fixtures.js';
import { HOLD } from '../../test/kit/documents.js';
import { httpCall, sseSubscribe, wsClient, wsSubscribe } from '../../test/kit/live.js';
import { TEST_REDIS_URL } from '../../test/databases.js';
import { startServer, type RunningServer } from '../server.js';
import { runAndPublish, slotChangesIn } from './after-commit.js';

let t: TestApp;
let serverA: RunningServer;
let child: ChildProcess;
let urlB: string;
let resourceId: string;
let slotId: string;
const clients: Client[] = [];

/** Instance B: its own process, the same PostgreSQL database and Redis. */
async function spawnInstance(databaseUrl: string): Promise<{ process: ChildProcess; url: string }> {
  const script = fileURLToPath(new URL('../../test/kit/instance.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', script], {
    env: {
      ...process.env,
      ...TEST_SECRETS,
      DATABASE_URL: databaseUrl,
      REDIS_URL: TEST_REDIS_URL,
      LOG_LEVEL: 'silent',
      SEED_DEMO: 'false',
      // As in every test app: no per-IP limits (they are shared through Redis by every test process).
      RATE_LIMIT_READS_PER_MINUTE: '0',
      RATE_LIMIT_BOOKINGS_PER_MINUTE: '0',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: proc.stdout! });
  const [line] = (await Promise.race([
    once(lines, 'line'),
    once(proc, 'exit').then(([code]) => Promise.reject(new Error(`instance B exited with ${code}`))),
  ])) as [string];
  return { process: proc, url: (JSON.parse(line) as { url: string }).url };
}

beforeAll(async () => {
  t = await createTestApp({ redis: true, config: { SHUTDOWN_TIMEOUT_MS: '200' } });
  serverA = await startServer(t.app, { port: 0, host: '127.0.0.1' });
  const fx = fixtures(t.app.db.sql);
  const locationId = await fx.location();
  resourceId = await fx.resource(locationId);
  slotId = await fx.slot(locationId, resourceId, { startAt: new Date(Date.now() + 86_400_000), capacity: 5 });
  ({ process: child, url: urlB } = await spawnInstance(t.databaseUrl));
}, 60_000);

afterAll(async () => {
  for (const client of clients) await client.dispose();
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
  await serverA.stop();
  await t.close();
});

describe('many instances (PostgreSQL + Redis)', () => {
  it('delivers a change committed on instance A to WebSocket and SSE subscribers on instance B', async () => {
    expect(urlB).not.toBe(serverA.url);
    const client = wsClient(urlB);
    clients.push(client);
    const variables = { resourceId: encodeGlobalID('Resource', resourceId) };
    const ws = wsSubscribe(client, variables);
    const sse = sseSubscribe(urlB, variables);
    await ws.log.at(0);
    await sse.log.at(0);

    await runAndPublish(t.app.db.prisma, t.app.services.slotEvents, async (tx, changes) => {
      await tx.slot.update({ where: { id: slotId }, data: { held: { increment: 1 } } });
      changes.push(...(await slotChangesIn(tx, [slotId], 'HELD')));
    });
    for (const log of [ws.log, sse.log]) {
      const event = await log.at(1);
      expect(event).toMatchObject({ kind: 'CHANGE', reason: 'HELD', slots: [{ held: 1, version: 2 }] });
      expect(decodeGlobalID(event.slots![0]!.id).id).toBe(slotId);
    }
    ws.stop();
    sse.close();
  });

  it('delivers a hold made through the API of instance B to a subscriber on instance A', async () => {
    const client = wsClient(serverA.url);
    clients.push(client);
    const { log, stop } = wsSubscribe(client, { resourceId: encodeGlobalID('Resource', resourceId) });
    const snapshot = await log.at(0);
    const receipt = await httpCall(urlB, HOLD, { input: { slotId: encodeGlobalID('Slot', slotId), customer: customer('b') } });
    expect(receipt.__typename).toBe('BookingReceipt');
    const event = await log.at(1);
    expect(event).toMatchObject({ kind: 'CHANGE', reason: 'HELD', slots: [{ held: snapshot.slots![0]!.held + 1 }] });
    const [row] = await t.app.db.sql.query<{ version: number }>('SELECT version FROM slots WHERE id = $1', [slotId]);
    expect(event.slots![0]!.version).toBe(row!.version);
    stop();
  });

  it('tells subscribers to start over when their instance lost its Redis subscription, then delivers again', async () => {
    const client = wsClient(serverA.url);
    clients.push(client);
    const variables = { resourceId: encodeGlobalID('Resource', resourceId) };
    const first = wsSubscribe(client, variables);
    await first.log.at(0);

    // Drop instance A's subscriber connection (named per process); ioredis reconnects and resubscribes.
    const admin = new Redis(TEST_REDIS_URL);
    const clientList = (await admin.client('LIST')) as string;
    const addr = clientList
      .split('\n')
      .find((line) => line.includes(`name=slotwise-sub-${process.pid} `))
      ?.match(/addr=(\S+)/)?.[1];
    expect(addr).toBeTruthy();
    await admin.client('KILL', 'ADDR', addr!);
    admin.disconnect();
    await first.log.until(() => first.log.ended, 10_000, 'the interruption');
    expect(JSON.stringify(first.log.error)).toContain('subscribe again for a fresh snapshot');

    const again = wsSubscribe(client, variables);
    const snapshot = await again.log.at(0);
    const [row] = await t.app.db.sql.query<{ held: number; version: number }>('SELECT held, version FROM slots WHERE id = $1', [slotId]);
    expect(snapshot.slots![0]).toMatchObject({ held: row!.held, version: row!.version });
    await httpCall(urlB, HOLD, { input: { slotId: encodeGlobalID('Slot', slotId), customer: customer('c') } });
    expect(await again.log.at(1)).toMatchObject({ reason: 'HELD', slots: [{ held: row!.held + 1, version: row!.version + 1 }] });
    again.stop();
  });
});

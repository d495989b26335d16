import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Client } from 'graphql-ws';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { fixtures } from '../../test/kit/fixtures.js';
import { waitFor } from '../../test/kit/wait.js';
import { wsClient, wsSubscribe } from '../../test/kit/live.js';
import { startServer, type RunningServer } from '../server.js';
import { runAndPublish, slotChangesIn } from './after-commit.js';

const CONNECTIONS = 50;
const PER_CONNECTION = 20;
const SUBSCRIBERS = CONNECTIONS * PER_CONNECTION;

let t: TestApp;
let server: RunningServer;
let resourceId: string;
let slotId: string;
const clients: Client[] = [];
const warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);

beforeAll(async () => {
  process.on('warning', onWarning);
  t = await createTestApp({
    redis: true,
    config: { SHUTDOWN_TIMEOUT_MS: '200', RATE_LIMIT_READS_PER_MINUTE: '0', MAX_SUBSCRIPTIONS_PER_IP: '2000' },
  });
  server = await startServer(t.app, { port: 0, host: '127.0.0.1' });
  const fx = fixtures(t.app.db.sql);
  const locationId = await fx.location();
  resourceId = await fx.resource(locationId);
  slotId = await fx.slot(locationId, resourceId, { startAt: new Date(Date.now() + 86_400_000), capacity: 100 });
});

afterAll(async () => {
  process.off('warning', onWarning);
  await Promise.all(clients.map((c) => c.dispose()));
  await server.stop();
  await t.close();
});

describe('fan-out', () => {
  it(`reaches ${SUBSCRIBERS} subscribers of one resource with one pub/sub listener and no listener warning`, async () => {
    const variables = { resourceId: encodeGlobalID('Resource', resourceId) };
    const subs: ReturnType<typeof wsSubscribe>[] = [];
    for (let c = 0; c < CONNECTIONS; c++) {
      const client = wsClient(server.url);
      clients.push(client);
      for (let s = 0; s < PER_CONNECTION; s++) subs.push(wsSubscribe(client, variables));
    }
    await waitFor(() => subs.every((s) => s.log.items.length === 1), 'every snapshot', 60_000);
    expect(t.app.services.slotAvailability.feed.size).toBe(SUBSCRIBERS);

    const latencies: number[] = [];
    for (let round = 1; round <= 3; round++) {
      const committed = await runAndPublish(t.app.db.prisma, t.app.services.slotEvents, async (tx, changes) => {
        await tx.slot.update({ where: { id: slotId }, data: { held: { increment: 1 } } });
        changes.push(...(await slotChangesIn(tx, [slotId], 'HELD')));
        return performance.now();
      });
      await waitFor(() => subs.every((s) => s.log.items.length > round), `round ${round} everywhere`, 20_000);
      latencies.push(performance.now() - committed);
    }
    expect(subs.every((s) => s.log.items.at(-1)!.slots![0]!.held === 3)).toBe(true);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    console.info(
      `${SUBSCRIBERS} subscribers (client and server in one process): last receipt ${latencies.map((l) => l.toFixed(0)).join(', ')} ms after commit`,
    );
  }, 120_000);
});

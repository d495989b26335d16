import { randomUUID } from 'node:crypto';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { EXPOSED } from '../../test/kit/documents.js';
import { fixtures } from '../../test/kit/fixtures.js';
import { OwnRedis } from '../../test/kit/redis.js';
import { waitFor } from '../../test/kit/wait.js';
import { SLOT_CHANGES_TOPIC, type SlotChangesMessage } from '../events/slot-events.js';
import { createPubSubHandle } from '../live/pubsub.js';
import { RedisFallback } from './redis-fallback.js';

/**
 * Two deployments (staging and production) on one Redis, told apart by REDIS_KEY_PREFIX: each keeps
 * its own rate budgets, caches and live events; two instances of one deployment still share them.
 */
let redis: OwnRedis;
let raw: Redis;
const apps: TestApp[] = [];

beforeAll(async () => {
  redis = await OwnRedis.start();
  raw = new Redis(redis.url);
}, 30_000);

afterAll(async () => {
  for (const t of apps) await t.close();
  raw?.disconnect();
  await redis?.kill();
});

async function deployment(prefix: string): Promise<TestApp> {
  const t = await createTestApp({ config: { REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix, RATE_LIMIT_READS_PER_MINUTE: '20' } });
  apps.push(t);
  return t;
}

const allKeys = async () => (await raw.keys('*')).sort();

describe('REDIS_KEY_PREFIX', () => {
  it('keeps rate budgets and caches apart per deployment and shared between its instances', async () => {
    const [staging, stagingTwo, production] = [await deployment('staging:'), await deployment('staging:'), await deployment('production:')];
    const headers = { 'x-session-id': randomUUID() };
    const codes = async (t: TestApp) => ((await t.execute('{ serverTime }', {}, { headers })).errors ?? []).map((e) => e.extensions?.code);

    let admitted = 0;
    while ((await codes(staging)).length === 0) admitted++;
    expect(admitted).toBeGreaterThan(0);
    expect(admitted).toBeLessThanOrEqual(20);
    // The other staging instance sees the same budget, used up; production has its own, untouched.
    expect(await codes(stagingTwo)).toEqual(['RATE_LIMITED']);
    expect(await codes(production)).toEqual([]);

    // An anonymous availability read (response cache) and a day of exposed slots (exposure cache),
    // from another client: this one has used up its minute.
    const fx = fixtures(production.app.db.sql);
    const location = await fx.location();
    const resource = await fx.resource(location);
    const start = new Date(Date.now() + 2 * 86_400_000);
    await fx.slot(location, resource, { startAt: start });
    const resourceId = encodeGlobalID('Resource', resource);
    const other = { headers: { 'x-session-id': randomUUID() } };
    const read = await production.execute(
      'query ($r: ID!, $from: DateTime!, $to: DateTime!) { availability(resourceId: $r, from: $from, to: $to) { __typename } }',
      { r: resourceId, from: new Date(start.getTime() - 86_400_000).toISOString(), to: new Date(start.getTime() + 86_400_000).toISOString() },
      other,
    );
    expect(read.errors).toBeUndefined();
    const exposed = await production.execute(EXPOSED, { resourceId, date: start.toISOString().slice(0, 10), sessionId: randomUUID() }, other);
    expect(exposed.errors).toBeUndefined();

    const keys = await allKeys();
    const productionKeys = keys.filter((k) => k.startsWith('production:'));
    expect(productionKeys.some((k) => k.startsWith('production:slotwise:ratelimit:'))).toBe(true);
    expect(productionKeys.some((k) => k.startsWith('production:rc:'))).toBe(true);
    expect(productionKeys.some((k) => k.startsWith('production:expose:'))).toBe(true);
    expect(keys.filter((k) => k.startsWith('staging:slotwise:ratelimit:')).length).toBeGreaterThan(0);
    expect(keys.filter((k) => !k.startsWith('staging:') && !k.startsWith('production:'))).toEqual([]);
  }, 60_000);

  it('publishes live events on the deployment own channel: its instances hear them, the other deployment does not', async () => {
    const log = pino({ level: 'silent' });
    const handle = (prefix: string) => {
      const fallbackClient = new Redis(redis.url, { lazyConnect: true });
      const pubsub = createPubSubHandle({
        url: redis.url,
        commandTimeoutMs: 1_000,
        channelPrefix: prefix,
        log,
        fallback: new RedisFallback(fallbackClient, log, () => {}),
      });
      return { ...pubsub, fallbackClient };
    };
    const [stagingA, stagingB, production] = [handle('staging:'), handle('staging:'), handle('production:')];
    const channels: string[] = [];
    const listener = new Redis(redis.url);
    await listener.psubscribe('*');
    listener.on('pmessage', (_pattern, channel) => channels.push(channel));
    const heard = (h: ReturnType<typeof handle>) => {
      const got: SlotChangesMessage[] = [];
      const iterator = h.pubsub.subscribe(SLOT_CHANGES_TOPIC)[Symbol.asyncIterator]();
      void (async () => {
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) got.push(next.value);
      })();
      return { got, stop: () => iterator.return?.() };
    };
    try {
      // The apps of the first test listen too (each server subscribes at start).
      const listeners = async (channel: string) => Number((await raw.pubsub('NUMSUB', channel))[1]);
      const before = { staging: await listeners('staging:slot-changes'), production: await listeners('production:slot-changes') };
      const toStagingB = heard(stagingB);
      const toProduction = heard(production);
      await waitFor(async () => (await listeners('staging:slot-changes')) === before.staging + 1, 'staging B subscribed', 5_000);
      await waitFor(async () => (await listeners('production:slot-changes')) === before.production + 1, 'production subscribed', 5_000);
      await waitFor(() => stagingA.clients.every((c) => c.status === 'ready'), 'staging A connected', 5_000);

      const message: SlotChangesMessage = { changes: [{ slotId: randomUUID(), version: 1, reason: 'HELD', locationId: null, resourceId: 'r' }] };
      stagingA.pubsub.publish(SLOT_CHANGES_TOPIC, message);
      await waitFor(() => toStagingB.got.length === 1, 'staging B heard staging A', 5_000);
      expect(toStagingB.got).toEqual([message]);
      expect(channels).toEqual(['staging:slot-changes']);
      // Redis handled staging's PUBLISH before this one (staging B heard it): a production subscriber
      // on staging's channel would have been sent that message before its own.
      production.pubsub.publish(SLOT_CHANGES_TOPIC, { changes: [] });
      await waitFor(() => toProduction.got.length === 1, 'production heard itself', 5_000);
      expect(toProduction.got).toEqual([{ changes: [] }]);
      expect(channels).toEqual(['staging:slot-changes', 'production:slot-changes']);
      await toStagingB.stop();
      await toProduction.stop();
    } finally {
      listener.disconnect();
      for (const h of [stagingA, stagingB, production]) {
        await h.close();
        h.fallbackClient.disconnect();
      }
    }
  }, 30_000);
});

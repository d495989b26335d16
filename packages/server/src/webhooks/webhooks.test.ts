import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { runRepeatedly, simulatedLatency, waitFor } from '../../test/kit/wait.js';
import { fixtures, customer, gid } from '../../test/kit/fixtures.js';
import { CANCEL, CONFIRM, HOLD, call } from '../../test/kit/documents.js';
import { startReceiver } from '../../test/kit/webhook-receiver.js';
import { WEBHOOK_CHANGES_CHANNEL, WebhookDelivery, type WebhookDeliveryOptions } from './webhook-delivery.js';

const CREATE = `mutation Create($input: CreateWebhookInput!) { createWebhook(input: $input) {
  __typename ... on WebhookWithSecret { secret webhook { id url events enabled } }
  ... on ValidationError { fieldErrors { path message } } } }`;
const UPDATE = `mutation Update($input: UpdateWebhookInput!) { updateWebhook(input: $input) {
  __typename ... on WebhookEndpoint { id enabled disabledReason } ... on Error { message } } }`;
const DELIVERIES = `query Deliveries($webhookId: ID) { webhookDeliveries(webhookId: $webhookId, first: 50) {
  ... on WebhookDeliveryConnection { totalCount edges { node { id webhookId eventType status attempts lastStatusCode log { attempt statusCode error } } } } } }`;
const REPLAY = `mutation Replay($id: ID!) { replayWebhookDelivery(id: $id) { __typename ... on WebhookDelivery { status attempts } } }`;
const ROTATE = `mutation Rotate($id: ID!) { rotateWebhookSecret(id: $id) { __typename ... on WebhookWithSecret { secret } } }`;
const DELETE = `mutation Delete($id: ID!) { deleteWebhook(id: $id) { __typename ... on DeletedWebhook { id } } }`;

let t: TestApp;
let f: ReturnType<typeof fixtures>;
let locationId: string;
let resourceId: string;
const log = pino({ level: 'silent' });

beforeAll(async () => {
  t = await createTestApp({ config: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' } });
  f = fixtures(t.app.db.sql);
  locationId = await f.location();
  resourceId = await f.resource(locationId);
});
afterAll(() => t?.close());

function worker(options: Partial<WebhookDeliveryOptions> = {}) {
  return new WebhookDelivery({
    db: t.app.db.sql,
    log,
    allowPrivateNetworks: true,
    maxAttempts: 5,
    timeoutMs: 5_000,
    disableAfterMs: 24 * 3_600_000,
    retryBaseMs: 10,
    retryMaxMs: 50,
    ...options,
  });
}

async function createWebhook(url: string, events: string[], app: TestApp = t) {
  const result = (await app.execute(CREATE, { input: { url, events, description: 'test' } }, { token: app.adminToken })).data!.createWebhook;
  expect(result.__typename).toBe('WebhookWithSecret');
  return result as { secret: string; webhook: { id: string } };
}

/** Turns every other endpoint off, so each test sees only its own deliveries. */
async function only(webhookId: string) {
  await t.app.db.sql.query(`UPDATE webhook_endpoints SET enabled = (id = $1::uuid)`, [await uuidOf(webhookId)]);
}
const uuidOf = async (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':')[1]!;

async function bookAndConfirm(n: string) {
  const held = await call(t, HOLD, { slotId: gid('Slot', await f.slot(locationId, resourceId)), customer: customer(n) });
  await call(t, CONFIRM, { bookingId: held.booking.id, manageToken: held.manageToken });
  return held as { manageToken: string; booking: { id: string } };
}

async function deliverUntil(w: WebhookDelivery, done: () => boolean | Promise<boolean>, what: string) {
  await waitFor(
    async () => {
      await w.runOnce();
      return done();
    },
    what,
    30_000,
  );
}

describe('webhooks', () => {
  it('a receiver gets signed booking.confirmed events it verifies with the standardwebhooks package', async () => {
    const receiver = await startReceiver();
    try {
      const { secret, webhook } = await createWebhook(receiver.url, ['booking.confirmed']);
      expect(secret).toMatch(/^whsec_/);
      await only(webhook.id);
      await bookAndConfirm('sig');
      await deliverUntil(worker(), () => receiver.received.length === 1, 'one delivery');

      const [request] = receiver.received;
      const verified = new Webhook(secret).verify(request!.body, request!.headers as Record<string, string>) as {
        type: string;
        data: { status: string };
      };
      expect(verified.type).toBe('booking.confirmed');
      expect(verified.data.status).toBe('CONFIRMED');
      // Tampered body or another secret: the same package refuses it.
      expect(() => new Webhook(secret).verify(request!.body.replace('CONFIRMED', 'CANCELLED'), request!.headers as Record<string, string>)).toThrow();
      const [, rotated] = [0, (await t.execute(ROTATE, { id: webhook.id }, { token: t.adminToken })).data!.rotateWebhookSecret.secret as string];
      expect(rotated).not.toBe(secret);
      expect(() => new Webhook(rotated).verify(request!.body, request!.headers as Record<string, string>)).toThrow();
      // The secret is stored encrypted, never in the clear.
      const [row] = await t.app.db.sql.query<{ secret: string }>(`SELECT secret FROM webhook_endpoints WHERE id = $1::uuid`, [
        await uuidOf(webhook.id),
      ]);
      expect(row!.secret).not.toContain(secret.slice(6));
    } finally {
      await receiver.close();
    }
  });

  it('retries after 500s, then succeeds: one event, one delivery id, every attempt in the log', async () => {
    const receiver = await startReceiver(({ n }) => (n <= 2 ? 500 : 200));
    try {
      const { secret, webhook } = await createWebhook(receiver.url, ['booking.confirmed']);
      await only(webhook.id);
      await bookAndConfirm('retry');
      await deliverUntil(worker(), () => receiver.received.length === 3, 'three attempts');

      expect(receiver.received.map((r) => r.status)).toEqual([500, 500, 200]);
      const ids = new Set(receiver.received.map((r) => r.headers['webhook-id']));
      expect(ids.size).toBe(1);
      for (const r of receiver.received) new Webhook(secret).verify(r.body, r.headers as Record<string, string>);
      const deliveries = (await t.execute(DELIVERIES, { webhookId: webhook.id }, { token: t.adminToken })).data!.webhookDeliveries;
      expect(deliveries.totalCount).toBe(1);
      const delivery = deliveries.edges[0].node;
      expect(delivery).toMatchObject({
        webhookId: [...ids][0],
        eventType: 'booking.confirmed',
        status: 'SUCCEEDED',
        attempts: 3,
        lastStatusCode: 200,
      });
      expect(delivery.log.map((a: { statusCode: number }) => a.statusCode)).toEqual([500, 500, 200]);

      // Replay sends it once more, same webhook-id and body.
      expect((await t.execute(REPLAY, { id: delivery.id }, { token: t.adminToken })).data!.replayWebhookDelivery).toMatchObject({
        status: 'PENDING',
        attempts: 0,
      });
      await deliverUntil(worker(), () => receiver.received.length === 4, 'the replay');
      expect(receiver.received[3]!.headers['webhook-id']).toBe(delivery.webhookId);
      expect(receiver.received[3]!.body).toBe(receiver.received[2]!.body);
    } finally {
      await receiver.close();
    }
  });

  it('keeps each booking’s events in order under failures and three concurrent workers', async () => {
    // Fails about a third of the requests and answers after a random delay: order must come from the outbox, not luck.
    const receiver = await startReceiver(async ({ n }) => {
      await simulatedLatency((n * 7) % 15);
      return n % 3 === 0 ? 503 : 204;
    });
    let running: { stop(): Promise<void> }[] = [];
    try {
      const { webhook } = await createWebhook(receiver.url, ['booking.*']);
      await only(webhook.id);
      const bookings = 8;
      // Every third request fails, whichever delivery it is: with three workers interleaving, one
      // delivery can draw five failures in a row and be given up (about one run in ten with
      // maxAttempts 5), and its event is then never accepted. Giving up is tested below.
      const workers = [worker({ maxAttempts: 50 }), worker({ maxAttempts: 50 }), worker({ maxAttempts: 50 })];
      running = workers.map((w) => runRepeatedly(() => w.runOnce(), 5));
      const ids = await Promise.all(
        Array.from({ length: bookings }, async (_, i) => {
          const held = await bookAndConfirm(`order${i}`);
          await call(t, CANCEL, { bookingId: held.booking.id, manageToken: held.manageToken });
          return held.booking.id;
        }),
      );
      await waitFor(() => receiver.accepted().length === bookings * 3, 'every event accepted', 25_000);
      await Promise.all(running.map((loop) => loop.stop()));

      const byBooking = new Map<string, string[]>();
      for (const event of receiver.accepted()) byBooking.set(event.aggregate.id, [...(byBooking.get(event.aggregate.id) ?? []), event.type]);
      expect(byBooking.size).toBe(bookings);
      for (const types of byBooking.values()) expect(types).toEqual(['booking.held', 'booking.confirmed', 'booking.cancelled']);
      // Each delivery id accepted once; failed attempts were retried under the same id.
      const accepted = receiver.accepted().map((e) => e.webhookId);
      expect(new Set(accepted).size).toBe(accepted.length);
      expect(receiver.received.length).toBeGreaterThan(accepted.length);
      expect(ids).toHaveLength(bookings);
    } finally {
      // A failed wait must not leave the workers delivering into the tests after this one.
      await Promise.all(running.map((loop) => loop.stop().catch(() => {})));
      await receiver.close();
    }
  });

  it('gives up after the last attempt, disables an endpoint failing for longer than the limit, and records nothing for it then', async () => {
    const receiver = await startReceiver(() => 500);
    let clock = 0;
    const w = worker({ maxAttempts: 2, disableAfterMs: 60 * 60_000, now: () => new Date(clock) });
    try {
      const { webhook } = await createWebhook(receiver.url, ['booking.confirmed']);
      await only(webhook.id);
      await bookAndConfirm('dead1');
      clock = Date.now();
      await deliverUntil(w, () => receiver.received.length === 1, 'first attempt');
      clock += 60_000;
      await deliverUntil(w, () => receiver.received.length === 2, 'second attempt');
      const state = async () =>
        (await t.execute(DELIVERIES, { webhookId: webhook.id }, { token: t.adminToken })).data!.webhookDeliveries.edges.map(
          (e: any) => e.node.status,
        );
      expect(await state()).toEqual(['FAILED']);

      // Still failing more than an hour after the first failure: disabled.
      clock += 2 * 60 * 60_000;
      await bookAndConfirm('dead2');
      await deliverUntil(w, () => receiver.received.length === 3, 'third request');
      const endpoint = (await t.execute(UPDATE, { input: { id: webhook.id } }, { token: t.adminToken })).data!.updateWebhook;
      expect(endpoint.enabled).toBe(false);
      expect(endpoint.disabledReason).toMatch(/failed since/);
      await bookAndConfirm('dead3');
      expect((await state()).length).toBe(2);

      // Enabled again: the pending delivery resumes.
      receiver.received.length = 0;
      const enabled = (await t.execute(UPDATE, { input: { id: webhook.id, enabled: true } }, { token: t.adminToken })).data!.updateWebhook;
      expect(enabled).toMatchObject({ enabled: true, disabledReason: null });
      clock += 60_000;
      await deliverUntil(w, () => receiver.received.length >= 1, 'the pending delivery after enabling');
    } finally {
      await receiver.close();
    }
  });

  it('is for admins only', async () => {
    const staff = await t.tokenFor(['manager']);
    const response = await t.execute(CREATE, { input: { url: 'https://example.com/hook', events: ['booking.confirmed'] } }, { token: staff });
    expect(response.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await t.execute(DELIVERIES, {})).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses unknown event types and bad URLs; deletes an endpoint with its deliveries', async () => {
    const bad = (await t.execute(CREATE, { input: { url: 'ftp://example.com', events: ['booking.exploded'] } }, { token: t.adminToken })).data!
      .createWebhook;
    expect(bad.__typename).toBe('ValidationError');
    const unknown = (await t.execute(CREATE, { input: { url: 'http://127.0.0.1:9/x', events: ['booking.exploded'] } }, { token: t.adminToken })).data!
      .createWebhook;
    expect(unknown.fieldErrors[0].path).toEqual(['input', 'events']);
    const { webhook } = await createWebhook('http://127.0.0.1:9/x', ['proposal.*', 'waitlist.*']);
    expect((await t.execute(DELETE, { id: webhook.id }, { token: t.adminToken })).data!.deleteWebhook.id).toBe(webhook.id);
    expect(await t.app.db.sql.query(`SELECT id FROM webhook_endpoints WHERE id = $1::uuid`, [await uuidOf(webhook.id)])).toEqual([]);
  });

  it('gives up a delivery whose last attempt never finished, once its lease has run out', async () => {
    const { webhook } = await createWebhook('http://127.0.0.1:9/never', ['booking.confirmed']);
    await only(webhook.id);
    await bookAndConfirm('abandoned');
    // As a worker that died during its last attempt leaves it: the attempt counted, the lease over.
    await t.app.db.sql.query(`UPDATE webhook_deliveries SET attempts = 5, due_at = now() - interval '1 second' WHERE endpoint_id = $1::uuid`, [
      await uuidOf(webhook.id),
    ]);
    expect((await worker({ maxAttempts: 5 }).runOnce()).claimed).toBe(0);
    expect(
      await t.app.db.sql.query(`SELECT status, last_error FROM webhook_deliveries WHERE endpoint_id = $1::uuid`, [await uuidOf(webhook.id)]),
    ).toEqual([{ status: 'FAILED', last_error: 'gave up: attempt 5 did not finish' }]);
  });

  it("creating, changing and replaying wake this process's delivery worker at commit", async () => {
    let wakes = 0;
    const stop = t.app.db.sql.onCommitted(WEBHOOK_CHANGES_CHANNEL, () => wakes++);
    try {
      const { webhook } = await createWebhook('http://127.0.0.1:9/wake', ['booking.confirmed']);
      expect(wakes).toBe(1);
      await only(webhook.id);
      expect((await t.execute(UPDATE, { input: { id: webhook.id, enabled: true } }, { token: t.adminToken })).data!.updateWebhook.__typename).toBe(
        'WebhookEndpoint',
      );
      expect(wakes).toBe(2);
      await bookAndConfirm('wake');
      const [delivery] = await t.app.db.sql.query<{ id: string }>(`SELECT id FROM webhook_deliveries WHERE endpoint_id = $1::uuid`, [
        await uuidOf(webhook.id),
      ]);
      expect(
        (await t.execute(REPLAY, { id: gid('WebhookDelivery', delivery!.id) }, { token: t.adminToken })).data!.replayWebhookDelivery.status,
      ).toBe('PENDING');
      expect(wakes).toBe(3);
    } finally {
      stop();
    }
  });
});

describe('webhooks and private networks (SSRF)', () => {
  let strict: TestApp;
  beforeAll(async () => {
    strict = await createTestApp();
  });
  afterAll(() => strict?.close());

  it('refuses loopback, private, link-local and unique-local URLs at creation without WEBHOOK_ALLOW_PRIVATE_NETWORKS', async () => {
    for (const url of [
      'http://127.0.0.1:8080/x',
      'http://localhost/x',
      'http://[::1]/x',
      'http://169.254.169.254/latest/meta-data',
      'http://10.1.2.3/x',
      'http://192.168.0.1/x',
      'http://[fd00::1]/x',
      'http://[::ffff:127.0.0.1]/x',
      'http://0.0.0.0/x',
    ]) {
      const result = (await strict.execute(CREATE, { input: { url, events: ['booking.confirmed'] } }, { token: strict.adminToken })).data!
        .createWebhook;
      expect(result.__typename, url).toBe('ValidationError');
      expect(result.fieldErrors[0].path).toEqual(['input', 'url']);
      expect(result.fieldErrors[0].message).toMatch(/private or loopback/);
    }
    expect(await strict.app.db.sql.query(`SELECT id FROM webhook_endpoints`)).toEqual([]);
  });

  it('refuses them again at delivery time (a name that now resolves to loopback: DNS rebinding)', async () => {
    const receiver = await startReceiver();
    try {
      for (const url of [receiver.url, `http://localhost:${receiver.port}/hooks`]) {
        const { webhook } = await createWebhook(url, ['booking.confirmed']);
        await only(webhook.id);
        await bookAndConfirm(`rebind-${url.length}`);
        const strictWorker = worker({ allowPrivateNetworks: false, maxAttempts: 1 });
        await deliverUntil(
          strictWorker,
          async () =>
            (
              await t.app.db.sql.query(`SELECT 1 FROM webhook_deliveries WHERE endpoint_id = $1::uuid AND status = 'FAILED'`, [
                await uuidOf(webhook.id),
              ])
            ).length === 1,
          'the refused delivery',
        );
        const [attempt] = await t.app.db.sql.query<{ status_code: number | null; error: string }>(
          `SELECT a.status_code, a.error FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.endpoint_id = $1::uuid`,
          [await uuidOf(webhook.id)],
        );
        expect(attempt!.status_code).toBeNull();
        expect(attempt!.error).toMatch(/private or loopback/);
      }
      expect(receiver.received).toEqual([]);
      // Allowed, the same name is resolved and connected to: the replayed delivery arrives.
      const [refused] = await t.app.db.sql.query<{ id: string }>(
        `SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id WHERE w.url LIKE 'http://localhost:%'`,
      );
      expect((await t.execute(REPLAY, { id: gid('WebhookDelivery', refused!.id) }, { token: t.adminToken })).data!.replayWebhookDelivery.status).toBe(
        'PENDING',
      );
      await deliverUntil(worker(), () => receiver.received.length === 1, 'the replay to localhost');
      expect(receiver.received[0]!.headers['webhook-id']).toBe(refused!.id);
    } finally {
      await receiver.close();
    }
  });

  it('a commit wakes the worker only while an endpoint is enabled; a change of endpoints here says so at once', async () => {
    const own = await createTestApp({ config: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' } });
    try {
      const w = worker({ db: own.app.db.sql });
      // Until a run has looked, a wake is assumed to be worth it.
      expect(w.wantsEvents()).toBe(true);
      await w.runOnce();
      expect(w.wantsEvents()).toBe(false);
      // An endpoint made while a run is looking: the run's "none" does not hide it.
      const looking = w.runOnce();
      await createWebhook('http://127.0.0.1:9/hook', ['booking.*'], own);
      w.changed();
      await looking;
      expect(w.wantsEvents()).toBe(true);
      await w.runOnce();
      expect(w.wantsEvents()).toBe(true);
      // Disabled (by an admin, or after failing for WEBHOOK_DISABLE_AFTER_HOURS): the next run sees none.
      await own.app.db.sql.query(`UPDATE webhook_endpoints SET enabled = false`);
      await w.runOnce();
      expect(w.wantsEvents()).toBe(false);
    } finally {
      await own.close();
    }
  });
});

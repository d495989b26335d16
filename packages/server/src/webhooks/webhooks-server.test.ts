import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { waitFor } from '../../test/kit/wait.js';
import { fixtures, customer, gid } from '../../test/kit/fixtures.js';
import { BOOK, CONFIRM, HOLD } from '../../test/kit/documents.js';
import { startReceiver } from '../../test/kit/webhook-receiver.js';
import { startServer, type RunningServer } from '../server.js';

const CREATE = `mutation Create($input: CreateWebhookInput!) { createWebhook(input: $input) {
  __typename ... on WebhookWithSecret { secret webhook { id } } ... on Error { message } } }`;

/** One GraphQL request over HTTP to the server; its first root field's answer. */
async function rootField(server: RunningServer, query: string, variables: Record<string, unknown>, token?: string) {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return Object.values(((await response.json()) as { data: Record<string, any> }).data)[0];
}

describe('webhooks in a running server', () => {
  let t: TestApp;
  let server: RunningServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    receiver = await startReceiver();
    t = await createTestApp({ config: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' } });
    server = await startServer(t.app, { port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await server.stop();
    await t.close();
    await receiver.close();
  });

  const graphql = (query: string, variables: Record<string, unknown>, token?: string) => rootField(server, query, variables, token);

  it('a receiver gets signed booking.confirmed events it can verify; a refused booking sends nothing', async () => {
    const created = await graphql(CREATE, { input: { url: receiver.url, events: ['booking.confirmed'] } }, t.adminToken);
    expect(created.__typename).toBe('WebhookWithSecret');
    const f = fixtures(t.app.db.sql);
    const locationId = await f.location();
    const slot = await f.slot(locationId, await f.resource(locationId), { capacity: 1 });

    const held = await graphql(HOLD, { input: { slotId: gid('Slot', slot), customer: customer('srv1') } });
    // The slot is full: this hold rolls back, and with it any event and delivery.
    expect((await graphql(HOLD, { input: { slotId: gid('Slot', slot), customer: customer('srv2') } })).__typename).toBe('SlotFullError');
    expect((await graphql(CONFIRM, { input: { bookingId: held.booking.id, manageToken: held.manageToken } })).status).toBe('CONFIRMED');

    // Delivered by the server's own job (woken at the commit, the endpoint's creation having told it
    // there is somewhere to deliver), not by the test.
    await waitFor(() => receiver.received.length === 1, 'the delivery', 30_000);
    const request = receiver.received[0]!;
    const event = new Webhook(created.secret).verify(request.body, request.headers as Record<string, string>) as {
      type: string;
      data: { bookingId: string };
    };
    expect(event.type).toBe('booking.confirmed');
    const [booking] = await t.app.db.sql.query<{ id: string }>(`SELECT id FROM bookings WHERE slot_id = $1`, [slot]);
    expect(event.data.bookingId).toBe(booking!.id);
    expect(await t.app.db.sql.query(`SELECT event_type FROM webhook_deliveries`)).toEqual([{ event_type: 'booking.confirmed' }]);
  });
});

describe('a running server without webhook endpoints', () => {
  it('spends no statement on webhooks for a burst of bookings beyond its once-a-second poll, and delivers once an endpoint exists', async () => {
    const receiver = await startReceiver();
    const t = await createTestApp({ config: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' } });
    const server = await startServer(t.app, { port: 0, host: '127.0.0.1' });
    try {
      const f = fixtures(t.app.db.sql);
      const locationId = await f.location();
      const resourceId = await f.resource(locationId);
      const slots = await Promise.all(Array.from({ length: 41 }, () => f.slot(locationId, resourceId)));
      const post = (query: string, variables: Record<string, unknown>, token?: string) => rootField(server, query, variables, token);
      const webhookStatements = () => t.sql.statements.filter((text) => /webhook_(deliveries|endpoints)/.test(text)).length;
      // The worker's first run has looked (it runs on start).
      await waitFor(() => webhookStatements() > 0, "the webhook worker's first run");

      t.sql.reset();
      const started = performance.now();
      const booked = await Promise.all(
        slots.slice(0, 40).map((slot, i) => post(BOOK, { input: { slotId: gid('Slot', slot), customer: customer(`burst${i}`) } })),
      );
      expect(booked.map((b) => b.__typename)).toEqual(Array(40).fill('BookingReceipt'));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const seconds = (performance.now() - started) / 1000;
      // Each poll is one statement (it finds no enabled endpoint and claims nothing); every booking's
      // commit woke the worker before, two statements a run.
      expect(webhookStatements()).toBeLessThanOrEqual(Math.ceil(seconds) + 1);

      const created = await post(CREATE, { input: { url: receiver.url, events: ['booking.confirmed'] } }, t.adminToken);
      expect(created.__typename).toBe('WebhookWithSecret');
      expect((await post(BOOK, { input: { slotId: gid('Slot', slots[40]!), customer: customer('after') } })).__typename).toBe('BookingReceipt');
      await waitFor(() => receiver.received.length === 1, 'the delivery after the endpoint was created', 30_000);
    } finally {
      await server.stop();
      await t.close();
      await receiver.close();
    }
  });
});

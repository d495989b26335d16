import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Client } from 'graphql-ws';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { fixtures, customer } from '../../test/kit/fixtures.js';
import { HOLD, call } from '../../test/kit/documents.js';
import { wsClient, wsSubscribe } from '../../test/kit/live.js';
import { startServer, type RunningServer } from '../server.js';

let t: TestApp;
let server: RunningServer;
let client: Client;

beforeAll(async () => {
  t = await createTestApp({ config: { SHUTDOWN_TIMEOUT_MS: '200' } });
  server = await startServer(t.app, { port: 0, host: '127.0.0.1' });
  client = wsClient(server.url);
});

afterAll(async () => {
  await client.dispose();
  await server.stop();
  await t.close();
});

describe('slotAvailability scopes', () => {
  it('by location: changes to any resource slot there', async () => {
    const fx = fixtures(t.app.db.sql);
    const locationId = await fx.location();
    const [r1, r2] = [await fx.resource(locationId), await fx.resource(locationId)];
    const start = Date.now() + 30 * 3_600_000;
    const [s1, s2] = [await fx.slot(locationId, r1, { startAt: new Date(start) }), await fx.slot(locationId, r2, { startAt: new Date(start) })];
    const { log, stop } = wsSubscribe(client, { locationId: encodeGlobalID('Location', locationId) });
    expect((await log.at(0)).slots!.map((s) => s.id)).toEqual([encodeGlobalID('Slot', s1), encodeGlobalID('Slot', s2)]); // start, then id order
    await call(t, HOLD, { slotId: encodeGlobalID('Slot', s2), customer: customer() });
    expect(await log.at(1)).toMatchObject({ reason: 'HELD', slots: [{ id: encodeGlobalID('Slot', s2), status: 'FULL', remaining: 0 }] });
    stop();
  });

  it('by form: a slot added by an admin arrives as GENERATED, a cancelled one as CANCELLED', async () => {
    const created = expectNoErrors(
      await t.execute(
        `mutation ($input: CreateFormInput!) { createForm(input: $input) { __typename ... on Form { id } } }`,
        { input: { slug: 'live-signup', title: 'Live signup', timeZone: 'Europe/Berlin' } },
        { token: t.adminToken },
      ),
    ).createForm;
    // A draft's live slots are staff-only; the public subscribes to published forms.
    expectNoErrors(await t.execute(`mutation ($id: ID!) { publishForm(id: $id) { __typename } }`, { id: created.id }, { token: t.adminToken }));
    const { log, stop } = wsSubscribe(client, { formId: created.id });
    expect(await log.at(0)).toMatchObject({ kind: 'SNAPSHOT', slots: [] });

    const startAt = new Date(Math.ceil((Date.now() + 2 * 86_400_000) / 3_600_000) * 3_600_000);
    const added = expectNoErrors(
      await t.execute(
        `mutation ($formId: ID!, $input: AddFormSlotInput!) { addFormSlot(formId: $formId, input: $input) { __typename ... on Slot { id } } }`,
        { formId: created.id, input: { startAt: startAt.toISOString(), endAt: new Date(startAt.getTime() + 1_800_000).toISOString(), capacity: 3 } },
        { token: t.adminToken },
      ),
    ).addFormSlot;
    expect(added.__typename).toBe('Slot');
    expect(await log.at(1)).toMatchObject({ kind: 'CHANGE', reason: 'GENERATED', slots: [{ id: added.id, status: 'OPEN', remaining: 3 }] });

    expectNoErrors(await t.execute(`mutation ($id: ID!) { cancelFormSlot(slotId: $id) { __typename } }`, { id: added.id }, { token: t.adminToken }));
    // Followed although cancelled slots are not in snapshots: the widget learns to drop it.
    expect(await log.at(2)).toMatchObject({ reason: 'CANCELLED', slots: [{ id: added.id, status: 'CANCELLED', remaining: 0 }] });
    stop();
  });
});

import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { BOOK, call } from '../../test/kit/documents.js';
import { customer, fixtures } from '../../test/kit/fixtures.js';
import { sseSubscribe, wsClient, wsSubscribe } from '../../test/kit/live.js';
import { createForm, publishedForm } from '../../test/kit/forms.js';
import { startServer, type RunningServer } from '../server.js';

/** Drafts and closed forms, their slots and availability: staff see them, the public finds nothing. */
let t: TestApp;
let server: RunningServer;
let anonymous: Client;
let staff: Client;
beforeAll(async () => {
  t = await createTestApp({ config: { SHUTDOWN_TIMEOUT_MS: '200' } });
  server = await startServer(t.app, { port: 0, host: '127.0.0.1' });
  anonymous = wsClient(server.url);
  staff = wsClient(server.url, { token: t.adminToken });
});
afterAll(async () => {
  await anonymous.dispose();
  await staff.dispose();
  await server.stop();
  await t.close();
});

const NODE = `query ($id: ID!) { node(id: $id) { __typename id ... on Form { title } ... on Slot { startAt } } }`;
const NODES = `query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`;
const AVAILABILITY = `query ($formId: ID!) { availability(formId: $formId, from: "2055-01-01T00:00:00Z", to: "2055-02-01T00:00:00Z") {
  __typename ... on Availability { slots { id } } } }`;
const DATES = `query ($formId: ID!) { availableDates(formId: $formId, from: "2055-01-01", to: "2055-01-31") {
  __typename ... on AvailableDates { dates { date } } } }`;
const WINDOW = { from: '2055-01-01T00:00:00Z', to: '2055-02-01T00:00:00Z' };

describe('drafts and closed forms are private', () => {
  it('node, nodes, availability, availableDates and slotAvailability (WebSocket and SSE) hide them from the public only', async () => {
    const draft = await createForm(t, { title: 'Secret draft' });
    const closed = await publishedForm(t, { title: 'Closed one' });
    expectNoErrors(await t.execute(`mutation ($id: ID!) { closeForm(id: $id) { __typename } }`, { id: closed.id }, { token: t.adminToken }));
    const open = await publishedForm(t);

    for (const form of [draft, closed]) {
      const slot = form.slots[0]!.id;
      expect(await t.execute(NODE, { id: form.id })).toEqual({ data: { node: null } });
      expect(await t.execute(NODE, { id: slot })).toEqual({ data: { node: null } });
      expect(await t.execute(NODES, { ids: [form.id, slot, open.id] })).toEqual({
        data: { nodes: [null, null, { __typename: 'Form', id: open.id }] },
      });
      expect(expectNoErrors(await t.execute(AVAILABILITY, { formId: form.id })).availability.__typename).toBe('NotFoundError');
      expect(expectNoErrors(await t.execute(DATES, { formId: form.id })).availableDates.__typename).toBe('NotFoundError');
      expect(await wsSubscribe(anonymous, { formId: form.id, ...WINDOW }).log.at(0)).toMatchObject({ __typename: 'NotFoundError' });
      const sse = sseSubscribe(server.url, { formId: form.id, ...WINDOW });
      expect(await sse.log.at(0)).toMatchObject({ __typename: 'NotFoundError' });
      sse.close();

      // Staff see all of it.
      const asStaff = { token: t.adminToken };
      expect(expectNoErrors(await t.execute(NODE, { id: form.id }, asStaff)).node).toMatchObject({ __typename: 'Form' });
      expect(expectNoErrors(await t.execute(NODE, { id: slot }, asStaff)).node).toMatchObject({ __typename: 'Slot' });
      expect(expectNoErrors(await t.execute(AVAILABILITY, { formId: form.id }, asStaff)).availability.slots.length).toBe(form.slots.length);
      expect(expectNoErrors(await t.execute(DATES, { formId: form.id }, asStaff)).availableDates.__typename).toBe('AvailableDates');
      const live = wsSubscribe(staff, { formId: form.id, ...WINDOW });
      expect(await live.log.at(0)).toMatchObject({ kind: 'SNAPSHOT' });
      live.stop();
    }
    expect(expectNoErrors(await t.execute(AVAILABILITY, { formId: open.id })).availability.slots).toHaveLength(open.slots.length);
  });

  it('closing a form ends its public live subscriptions (WebSocket and SSE); staff go on receiving', async () => {
    const form = await publishedForm(t, { title: 'Closing soon' });
    const publicWs = wsSubscribe(anonymous, { formId: form.id, ...WINDOW });
    const publicSse = sseSubscribe(server.url, { formId: form.id, ...WINDOW });
    const staffWs = wsSubscribe(staff, { formId: form.id, ...WINDOW });
    for (const live of [publicWs, publicSse, staffWs]) expect(await live.log.at(0, 15_000)).toMatchObject({ kind: 'SNAPSHOT' });

    expectNoErrors(await t.execute(`mutation ($id: ID!) { closeForm(id: $id) { __typename } }`, { id: form.id }, { token: t.adminToken }));
    await publicWs.log.until(() => publicWs.log.ended, 15_000, 'the public WebSocket subscription to end');
    await publicSse.log.until(() => publicSse.log.ended, 15_000, 'the public SSE subscription to end');
    expect([publicWs.log.error, publicSse.log.error]).toEqual([null, null]);

    const cancelled = await t.execute(
      `mutation ($id: ID!) { cancelFormSlot(slotId: $id) { __typename } }`,
      { id: form.slots[0]!.id },
      { token: t.adminToken },
    );
    expect(expectNoErrors(cancelled).cancelFormSlot.__typename).toBe('Slot');
    expect(await staffWs.log.at(1, 15_000)).toMatchObject({ kind: 'CHANGE', reason: 'CANCELLED' });
    expect(publicWs.log.items).toHaveLength(1);
    expect(publicSse.log.items).toHaveLength(1);
    staffWs.stop();
    publicSse.close();
  });

  it("node of an unknown, malformed or someone else's id is null, without an error", async () => {
    const fx = fixtures(t.app.db.sql);
    const slotId = await fx.slot(await fx.location(), null);
    const receipt = await call(t, BOOK, { slotId: encodeGlobalID('Slot', slotId), customer: customer('private') });
    const ids = [
      receipt.booking.id,
      encodeGlobalID('Booking', '018f0000-0000-7000-8000-000000000000'),
      encodeGlobalID('Form', 'not-a-uuid'),
      encodeGlobalID('NoSuchType', '018f0000-0000-7000-8000-000000000000'),
      'garbage',
    ];
    for (const id of ids) expect(await t.execute(NODE, { id })).toEqual({ data: { node: null } });
    expect(await t.execute(NODES, { ids })).toEqual({ data: { nodes: ids.map(() => null) } });
    expect(expectNoErrors(await t.execute(NODE, { id: receipt.booking.id }, { token: t.adminToken })).node).toMatchObject({ __typename: 'Booking' });
  });
});

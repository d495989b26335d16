import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { BOOK, CANCEL, call } from '../../test/kit/documents.js';
import { customer, gid, appWithResource, type Fixtures } from '../../test/kit/fixtures.js';
import { manageRoute } from '../calendar/manage-route.js';
import { startServer, type RunningServer } from '../server.js';
import { pii } from '../shared/pii.js';
import { waitlistRoute } from './waitlist-route.js';

const JOIN = `mutation Join($input: JoinWaitlistInput!) { joinWaitlist(input: $input) {
  __typename
  ... on JoinedWaitlist { leaveToken ahead entry { id status ahead slotId customer { email } } }
  ... on SlotNotFullError { code remaining }
  ... on ValidationError { code fieldErrors { path message } }
  ... on NotFoundError { code }
} }`;
const LEAVE = `mutation Leave($input: LeaveWaitlistInput!) { leaveWaitlist(input: $input) {
  __typename ... on WaitlistEntry { status } ... on NotFoundError { code } } }`;
const LIST = `query List($slotId: ID, $resourceId: ID) { waitlist(slotId: $slotId, resourceId: $resourceId) {
  __typename ... on WaitlistSuccess { data { status ahead customer { name email } offeredBookingId } } } }`;

let t: TestApp;
let f: Fixtures;
let server: RunningServer;
let locationId: string;
let resourceId: string;

beforeAll(async () => {
  ({ t, f, locationId, resourceId } = await appWithResource());
  server = await startServer(t.app, { port: 0, host: '127.0.0.1', routes: [manageRoute(t.app), waitlistRoute(t.app)] });
});
afterAll(async () => {
  await server?.stop();
  await t?.close();
});

const join = async (input: Record<string, unknown>) => expectNoErrors(await t.execute(JOIN, { input })).joinWaitlist;
let phones = 0;
/** Each waiter their own phone: one live booking per slot per phone (seed 003). */
const person = (n: number | string) => ({ name: `Waiter ${n}`, email: `w${n}@example.com`, phone: `+1 555 ${String(1000 + (phones++ % 9000))}` });

/** A slot of `capacity` places, all booked; returns the slot and the bookings' ids and manage tokens. */
async function fullSlot(capacity: number) {
  const slot = await f.slot(locationId, resourceId, { capacity });
  const receipts = [];
  for (let i = 0; i < capacity; i++) receipts.push(await call(t, BOOK, { slotId: gid('Slot', slot), customer: customer(`full-${slot}-${i}`) }));
  return { slot, receipts: receipts.map((r) => ({ id: r.booking.id as string, manageToken: r.manageToken as string })) };
}

const entries = (slot: string) =>
  t.app.db.sql.query<{ customer_email_hash: string; status: string; offered_booking_id: string | null }>(
    `SELECT customer_email_hash, status, offered_booking_id FROM waitlist_entries WHERE slot_id = $1 ORDER BY position`,
    [slot],
  );
const offerMail = async (bookingId: string) => {
  const [row] = await t.app.db.sql.query<{ content: string; recipient: string }>(
    `SELECT content, recipient FROM outbox_messages WHERE kind = 'waitlist-offer' AND booking_id = $1`,
    [bookingId],
  );
  return row ? { to: pii().decrypt(row.recipient), ...(JSON.parse(pii().decrypt(row.content)) as { subject: string; text: string }) } : null;
};

describe('joinWaitlist', () => {
  it('joins the line of a full slot only, once per customer, and mails a link to leave', async () => {
    const open = await f.slot(locationId, resourceId, { capacity: 2 });
    expect(await join({ slotId: gid('Slot', open), customer: person('a') })).toMatchObject({
      __typename: 'SlotNotFullError',
      code: 'SLOT_NOT_FULL',
      remaining: 2,
    });

    const { slot } = await fullSlot(1);
    // The one holding its place does not join its line.
    const holder = await join({ slotId: gid('Slot', slot), customer: customer(`full-${slot}-0`) });
    expect(holder).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['input', 'customer', 'email'], message: 'already has a place in this slot' }],
    });
    const first = await join({ slotId: gid('Slot', slot), customer: person('a') });
    expect(first).toMatchObject({
      __typename: 'JoinedWaitlist',
      ahead: 0,
      entry: { status: 'WAITING', ahead: 0, slotId: gid('Slot', slot), customer: null },
    });
    expect(first.leaveToken).toMatch(/^wl_/);
    expect(await join({ slotId: gid('Slot', slot), customer: person('b') })).toMatchObject({ ahead: 1 });
    expect(await join({ slotId: gid('Slot', slot), customer: person('c') })).toMatchObject({ ahead: 2 });
    const again = await join({ slotId: gid('Slot', slot), customer: { ...person('a'), email: 'WA@Example.com' } });
    expect(again).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'customer', 'email'] }] });

    const [mail] = await t.app.db.sql.query<{ content: string }>(
      `SELECT content FROM outbox_messages WHERE kind = 'waitlist-joined' ORDER BY created_at LIMIT 1`,
    );
    const text = JSON.parse(pii().decrypt(mail!.content)).text as string;
    const link = text.match(/http\S+\/waitlist\/leave\?t=\S+/)![0];
    expect(decodeURIComponent(new URL(link).searchParams.get('t')!)).toBe(first.leaveToken);
  });

  it('refuses bad input with the field it concerns, and writes nothing', async () => {
    const before = await t.app.db.sql.query(`SELECT count(*)::int AS n FROM waitlist_entries`);
    expect(await join({ customer: person('x') })).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'slotId'] }] });
    expect(await join({ resourceId: gid('Resource', resourceId), customer: person('x') })).toMatchObject({ __typename: 'ValidationError' });
    const from = new Date(Date.now() + 86_400_000);
    expect(await join({ resourceId: gid('Resource', resourceId), from, to: new Date(from.getTime() - 1), customer: person('x') })).toMatchObject({
      fieldErrors: [{ path: ['input', 'to'] }],
    });
    expect(await join({ slotId: gid('Slot', '00000000-0000-7000-8000-000000000000'), customer: person('x') })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await t.app.db.sql.query(`SELECT count(*)::int AS n FROM waitlist_entries`)).toEqual(before);
  });
});

describe('a freed place goes to the first in line', () => {
  it('20 waiting, 5 cancellations at once: exactly the first 5 get holds, in order; the rest wait', async () => {
    const { slot, receipts } = await fullSlot(5);
    for (let i = 0; i < 20; i++) await join({ slotId: gid('Slot', slot), customer: person(`q${slot}-${i}`) });

    const cancelled = await Promise.all(receipts.map((r) => call(t, CANCEL, { bookingId: r.id, manageToken: r.manageToken })));
    expect(cancelled.map((c) => c.status)).toEqual(Array(5).fill('CANCELLED'));

    const line = await entries(slot);
    const expected = Array.from({ length: 20 }, (_, i) => pii().emailHash(person(`q${slot}-${i}`).email));
    expect(line.map((e) => e.customer_email_hash)).toEqual(expected);
    expect(line.map((e) => e.status)).toEqual([...Array(5).fill('OFFERED'), ...Array(15).fill('WAITING')]);
    // Each offer is a hold of that customer's, and the public sees no free place.
    expect(await f.slotCounts(slot)).toMatchObject({ booked: 0, held: 5, status: 'FULL' });
    const holds = await t.app.db.sql.query<{ id: string; customer_email_hash: string; status: string }>(
      `SELECT id, customer_email_hash, status FROM bookings WHERE slot_id = $1 AND status = 'HELD'`,
      [slot],
    );
    expect(new Set(holds.map((h) => h.customer_email_hash))).toEqual(new Set(expected.slice(0, 5)));
    expect((await call(t, BOOK, { slotId: gid('Slot', slot), customer: customer('late') })).__typename).toBe('SlotFullError');
    for (const entry of line.slice(0, 5)) expect((await offerMail(entry.offered_booking_id!))?.text).toMatch(/\/manage\?t=/);
  });

  it('an offer that lapses passes to the next in line; a confirmed offer is BOOKED', async () => {
    const { slot, receipts } = await fullSlot(1);
    // The second reads times in Kolkata: their offer is a booking in that zone.
    for (const n of ['l1', 'l2', 'l3'])
      await join({ slotId: gid('Slot', slot), customer: { ...person(`${n}-${slot}`), ...(n === 'l2' ? { timeZone: 'Asia/Kolkata' } : {}) } });
    await call(t, CANCEL, { bookingId: receipts[0]!.id, manageToken: receipts[0]!.manageToken });
    const [first] = await entries(slot);
    expect(first!.status).toBe('OFFERED');

    await t.app.db.sql.query(`UPDATE bookings SET hold_expires_at = now() - interval '1 second' WHERE id = $1`, [first!.offered_booking_id]);
    await t.app.services.bookings.releaseExpiredHolds();
    const afterLapse = await entries(slot);
    expect(afterLapse.map((e) => e.status)).toEqual(['LAPSED', 'OFFERED', 'WAITING']);
    expect(await f.slotCounts(slot)).toMatchObject({ held: 1, booked: 0 });

    // The second confirms through the link in their mail, on the manage page.
    const mail = (await offerMail(afterLapse[1]!.offered_booking_id!))!;
    expect(mail.to).toBe(person(`l2-${slot}`).email);
    // The time as the booking mails write it, in their zone.
    expect(mail.subject).toMatch(/^A place is free: \w{3} \w{3} \d{1,2}, .+ GMT\+5:30$/);
    const token = new URL(mail.text.match(/http\S+\/manage\?t=\S+/)![0]).searchParams.get('t')!;
    const page = await fetch(`${server.url}/manage?t=${encodeURIComponent(token)}`);
    const text = await page.text();
    expect(text).toContain('Confirm this booking');
    expect(text).toContain('(Kolkata)');
    const confirmed = await fetch(`${server.url}/manage`, {
      method: 'POST',
      body: new URLSearchParams({ t: token, action: 'confirm' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(confirmed.status).toBe(200);
    expect(await confirmed.text()).toContain('The booking is confirmed');
    expect((await entries(slot)).map((e) => e.status)).toEqual(['LAPSED', 'BOOKED', 'WAITING']);
    expect(await f.slotCounts(slot)).toMatchObject({ held: 0, booked: 1, status: 'FULL' });

    const types = await t.app.db.sql.query<{ type: string }>(
      `SELECT type FROM domain_events WHERE aggregate_type = 'waitlist' AND aggregate_id = $1 ORDER BY aggregate_seq`,
      [
        (
          await t.app.db.sql.query<{ id: string }>(`SELECT id FROM waitlist_entries WHERE slot_id = $1 ORDER BY position OFFSET 1 LIMIT 1`, [slot])
        )[0]!.id,
      ],
    );
    expect(types.map((r) => r.type)).toEqual(['waitlist.joined', 'waitlist.offered', 'waitlist.booked']);
  });

  it('a customer who left is skipped; the leave link works once from the mail page', async () => {
    const { slot, receipts } = await fullSlot(1);
    const gone = await join({ slotId: gid('Slot', slot), customer: person(`gone-${slot}`) });
    await join({ slotId: gid('Slot', slot), customer: person(`stays-${slot}`) });

    const page = await fetch(`${server.url}/waitlist/leave?t=${encodeURIComponent(gone.leaveToken)}`);
    expect(await page.text()).toContain('Leave the waitlist');
    const left = await fetch(`${server.url}/waitlist/leave`, {
      method: 'POST',
      body: new URLSearchParams({ t: gone.leaveToken }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(await left.text()).toContain('You have left the waitlist');
    expect(expectNoErrors(await t.execute(LEAVE, { input: { leaveToken: 'wl_nope' } })).leaveWaitlist).toMatchObject({ code: 'NOT_FOUND' });

    await call(t, CANCEL, { bookingId: receipts[0]!.id, manageToken: receipts[0]!.manageToken });
    expect((await entries(slot)).map((e) => e.status)).toEqual(['LEFT', 'OFFERED']);
  });

  it('someone waiting for a resource in a window gets a freed slot inside it, not one outside', async () => {
    const resource = await f.resource(locationId);
    const inside = new Date(Date.now() + 3 * 86_400_000);
    const slotIn = await f.slot(locationId, resource, { startAt: inside, capacity: 1 });
    const slotOut = await f.slot(locationId, resource, { startAt: new Date(inside.getTime() + 5 * 86_400_000), capacity: 1 });
    const bookedIn = await call(t, BOOK, { slotId: gid('Slot', slotIn), customer: customer('win-in') });
    const bookedOut = await call(t, BOOK, { slotId: gid('Slot', slotOut), customer: customer('win-out') });
    const joined = await join({
      resourceId: gid('Resource', resource),
      from: new Date(inside.getTime() - 3_600_000),
      to: new Date(inside.getTime() + 86_400_000),
      customer: person(`window-${resource}`),
    });
    expect(joined.__typename).toBe('JoinedWaitlist');

    await call(t, CANCEL, { bookingId: bookedOut.booking.id, manageToken: bookedOut.manageToken });
    expect(await f.slotCounts(slotOut)).toMatchObject({ held: 0, booked: 0 });
    await call(t, CANCEL, { bookingId: bookedIn.booking.id, manageToken: bookedIn.manageToken });
    expect(await f.slotCounts(slotIn)).toMatchObject({ held: 1, booked: 0 });
    const staff = expectNoErrors(await t.execute(LIST, { resourceId: gid('Resource', resource) }, { token: t.adminToken })).waitlist;
    expect(staff.data).toMatchObject([{ status: 'OFFERED', customer: { email: person(`window-${resource}`).email } }]);
  });

  it('a rule raising a slot’s capacity offers the new place to the first in line', async () => {
    const resource = await t.app.services.resources.create({ locationId, kind: 'PERSON', name: 'Growing' });
    const { rule } = await t.app.services.rules.create({
      resourceId: resource.id,
      kind: 'WEEKLY',
      daysOfWeek: [1, 2, 3, 4, 5, 6, 7],
      startTime: '09:00',
      endTime: '10:00',
      slotDurationMinutes: 60,
      capacity: 1,
    });
    const day = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    await t.app.services.generation.generate({ resourceId: resource.id, from: day, to: day });
    const [slot] = await t.app.db.sql.query<{ id: string }>(`SELECT id FROM slots WHERE resource_id = $1`, [resource.id]);
    await call(t, BOOK, { slotId: gid('Slot', slot!.id), customer: customer('grow') });
    await join({ slotId: gid('Slot', slot!.id), customer: person(`grow-${resource.id}`) });

    await t.app.services.rules.update(rule.id, { capacity: 2 });
    expect((await entries(slot!.id)).map((e) => e.status)).toEqual(['OFFERED']);
    expect(await f.slotCounts(slot!.id)).toMatchObject({ booked: 1, held: 1, status: 'FULL' });
  });

  it('only staff read the lines', async () => {
    const anonymous = await t.execute(LIST, { resourceId: gid('Resource', resourceId) });
    expect(anonymous.errors?.[0]?.extensions?.code).toMatch(/FORBIDDEN|UNAUTHENTICATED/);
    const user = await t.execute(LIST, { resourceId: gid('Resource', resourceId) }, { token: await t.tokenFor(['user']) });
    expect(user.errors?.[0]?.extensions?.code).toMatch(/FORBIDDEN/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { fixtures, customer, gid } from '../../test/kit/fixtures.js';
import { call } from '../../test/kit/documents.js';

let t: TestApp;
let f: ReturnType<typeof fixtures>;
let locationId: string;

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const RESULT = `__typename
  ... on BookingReceipt { manageToken booking { id startAt status } }
  ... on Error { code message }
  ... on BookingPolicyError { policy policyField startAt }
  ... on ValidationError { fieldErrors { path message } }`;
const BOOK = `mutation Book($input: BookInput!) { book(input: $input) { ${RESULT} } }`;
const HOLD = `mutation Hold($input: HoldInput!) { hold(input: $input) { ${RESULT} } }`;
const RESCHEDULE = `mutation R($input: RescheduleBookingInput!) { rescheduleBooking(input: $input) {
  __typename ... on Booking { id startAt } ... on Error { code } ... on BookingPolicyError { policy } } }`;
const AVAILABILITY = `query A($resourceId: ID, $locationId: ID, $from: DateTime!, $to: DateTime!) {
  availability(resourceId: $resourceId, locationId: $locationId, from: $from, to: $to) {
    __typename ... on Availability { slots { id startAt } } } }`;
const DATES = `query D($resourceId: ID, $from: Date!, $to: Date!) {
  availableDates(resourceId: $resourceId, from: $from, to: $to) { __typename ... on AvailableDates { dates { date slotCount remaining } } } }`;
const SEARCH = `query S($resourceId: ID, $from: DateTime!, $to: DateTime!, $d: Int!) {
  searchAvailability(resourceId: $resourceId, from: $from, to: $to, durationMinutes: $d) {
    __typename ... on AvailabilitySearch { results { ranges { startAt endAt } } } } }`;
const UPDATE_RESOURCE = `mutation U($id: ID!, $input: UpdateResourceInput!) { updateResource(id: $id, input: $input) {
  __typename ... on Resource { bufferAfterMinutes minNoticeMinutes horizonDays maxBookingsPerDay }
  ... on ValidationError { fieldErrors { path message } } } }`;
const UPDATE_LOCATION = `mutation U($id: ID!, $input: UpdateLocationInput!) { updateLocation(id: $id, input: $input) {
  __typename ... on UpdateLocationPayload { location { minNoticeMinutes } } ... on ValidationError { fieldErrors { path message } } } }`;

/** The next whole quarter hour at least `minutes` from now. */
const quarterAfter = (minutes: number) => new Date(Math.ceil((Date.now() + minutes * MIN) / (15 * MIN)) * 15 * MIN);

async function setPolicy(resourceId: string, policy: Record<string, number | null>) {
  const cols = Object.entries(policy).map(([k, v], i) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v, i] as const);
  await t.app.db.sql.query(`UPDATE resources SET ${cols.map(([c, , i]) => `${c} = $${i + 2}`).join(', ')} WHERE id = $1`, [
    resourceId,
    ...cols.map(([, v]) => v),
  ]);
}

const bookSlot = (slotId: string, who: object = customer(), extra: object = {}, token?: string) =>
  call(t, BOOK, { slotId: gid('Slot', slotId), customer: who, ...extra }, { token });

async function shown(resourceId: string, from: Date, to: Date): Promise<string[]> {
  const data = expectNoErrors(await t.execute(AVAILABILITY, { resourceId: gid('Resource', resourceId), from, to }));
  return data.availability.slots.map((s: { id: string }) => Buffer.from(s.id, 'base64').toString('utf8').split(':')[1]);
}

beforeAll(async () => {
  t = await createTestApp();
  f = fixtures(t.app.db.sql);
  locationId = await f.location();
});
afterAll(() => t?.close());

describe('policy fields on resources and locations', () => {
  it('are set, cleared with null, validated with the field named, and inherited from the location', async () => {
    const resourceId = await f.resource(locationId);
    const updated = expectNoErrors(
      await t.execute(
        UPDATE_RESOURCE,
        { id: gid('Resource', resourceId), input: { bufferAfterMinutes: 15, minNoticeMinutes: 120, horizonDays: 30 } },
        { token: t.adminToken },
      ),
    );
    expect(updated.updateResource).toEqual({
      __typename: 'Resource',
      bufferAfterMinutes: 15,
      minNoticeMinutes: 120,
      horizonDays: 30,
      maxBookingsPerDay: null,
    });
    const cleared = expectNoErrors(
      await t.execute(UPDATE_RESOURCE, { id: gid('Resource', resourceId), input: { horizonDays: null } }, { token: t.adminToken }),
    );
    expect(cleared.updateResource).toMatchObject({ bufferAfterMinutes: 15, horizonDays: null });

    const bad = expectNoErrors(
      await t.execute(
        UPDATE_RESOURCE,
        { id: gid('Resource', resourceId), input: { bufferAfterMinutes: -1, maxBookingsPerDay: 0 } },
        { token: t.adminToken },
      ),
    );
    expect(bad.updateResource.__typename).toBe('ValidationError');
    expect(bad.updateResource.fieldErrors.map((e: { path: string[] }) => e.path.join('.')).sort()).toEqual([
      'input.bufferAfterMinutes',
      'input.maxBookingsPerDay',
    ]);
    const badLocation = expectNoErrors(
      await t.execute(UPDATE_LOCATION, { id: gid('Location', locationId), input: { minNoticeMinutes: 600_000 } }, { token: t.adminToken }),
    );
    expect(badLocation.updateLocation.fieldErrors[0]).toMatchObject({ path: ['input', 'minNoticeMinutes'] });

    // A location default applies to a resource with no value of its own.
    const other = await f.location();
    const person = await f.resource(other);
    expectNoErrors(await t.execute(UPDATE_LOCATION, { id: gid('Location', other), input: { minNoticeMinutes: 180 } }, { token: t.adminToken }));
    const soon = await f.slot(other, person, { startAt: quarterAfter(150) });
    expect(await bookSlot(soon)).toMatchObject({ __typename: 'BookingPolicyError', policy: 'MIN_NOTICE', policyField: 'minNoticeMinutes' });
    await setPolicy(person, { minNoticeMinutes: 60 });
    expect(await bookSlot(soon)).toMatchObject({ __typename: 'BookingReceipt' });
  });
});

describe('enforced in the booking transaction, shown the same way', () => {
  it('minimum notice and horizon at their boundaries (one minute inside / outside)', async () => {
    const resourceId = await f.resource(locationId);
    await setPolicy(resourceId, { minNoticeMinutes: 120, horizonDays: 2 });
    // Whole minutes, a few minutes of slack for a slow machine on the allowed side only.
    const minute = Math.ceil(Date.now() / MIN) * MIN;
    const inside = await f.slot(locationId, resourceId, { startAt: new Date(minute + 119 * MIN) });
    const justOut = await f.slot(locationId, resourceId, { startAt: new Date(minute + 125 * MIN) });
    const farIn = await f.slot(locationId, resourceId, { startAt: new Date(minute + 2 * DAY - 5 * MIN) });
    const farOut = await f.slot(locationId, resourceId, { startAt: new Date(minute + 2 * DAY + MIN) });
    expect(await shown(resourceId, new Date(), new Date(Date.now() + 3 * DAY))).toEqual([justOut, farIn]);
    expect(await bookSlot(inside)).toMatchObject({ __typename: 'BookingPolicyError', policy: 'MIN_NOTICE' });
    expect(await bookSlot(farOut)).toMatchObject({ __typename: 'BookingPolicyError', policy: 'HORIZON', policyField: 'horizonDays' });
    expect(await bookSlot(justOut)).toMatchObject({ __typename: 'BookingReceipt' });
    expect(await bookSlot(farIn, customer(2))).toMatchObject({ __typename: 'BookingReceipt' });
    expect(await f.bookingCounts(inside)).toEqual({});
    expect(await f.bookingCounts(farOut)).toEqual({});
  });

  it('done: a person with a 15-minute buffer and 2-hour notice shows and books exactly what the policy allows', async () => {
    const person = await f.resource(locationId, { kind: 'PERSON' });
    await setPolicy(person, { bufferAfterMinutes: 15, minNoticeMinutes: 120 });
    const base = quarterAfter(60);
    // 30-minute slots every 15 minutes from an hour ahead to five hours ahead.
    const slots: { id: string; start: number }[] = [];
    for (let i = 0; i < 16; i++) {
      const startAt = new Date(base.getTime() + i * 15 * MIN);
      slots.push({ id: await f.slot(locationId, person, { startAt, minutes: 30 }), start: startAt.getTime() });
    }
    const window = [new Date(), new Date(base.getTime() + 6 * HOUR)] as const;
    const noticeEnd = Date.now() + 120 * MIN;
    expect(await shown(person, ...window)).toEqual(slots.filter((s) => s.start >= noticeEnd).map((s) => s.id));

    // Book the first shown slot: its neighbours within 30 minutes (its length) before and 15 after go.
    const first = slots.find((s) => s.start >= noticeEnd + 15 * MIN)!;
    expect(await bookSlot(first.id)).toMatchObject({ __typename: 'BookingReceipt' });
    const visible = await shown(person, ...window);
    const expected = slots.filter(
      (s) => s.start >= noticeEnd && (s.id === first.id || s.start <= first.start - 30 * MIN || s.start >= first.start + 45 * MIN),
    );
    expect(visible).toEqual(expected.map((s) => s.id));

    // Try every slot: exactly the shown ones (other than the full one) can be booked, one at a time
    // so each booking's buffer is judged against the ones before it.
    const outcomes = new Map<string, string>();
    for (const [i, s] of slots.entries()) {
      if (s.id === first.id) continue;
      const canShow = (await shown(person, ...window)).includes(s.id);
      const result = await bookSlot(s.id, customer(`done${i}`));
      outcomes.set(s.id, result.__typename);
      expect(result.__typename === 'BookingReceipt').toBe(canShow);
      if (!canShow) expect(['MIN_NOTICE', 'BUFFER']).toContain(result.policy);
    }
    expect([...outcomes.values()].filter((o) => o === 'BookingReceipt').length).toBeGreaterThan(2);
  });

  it('buffers on an exclusive room: range bookings, search and slots follow the same rule', async () => {
    const room = await f.resource(locationId, { exclusive: true });
    await setPolicy(room, { bufferBeforeMinutes: 15, bufferAfterMinutes: 15 });
    const base = new Date(Math.floor(Date.now() / DAY) * DAY + 3 * DAY);
    const at = (h: number) => new Date(base.getTime() + h * HOUR).toISOString();
    const range = (from: number, to: number, who = customer()) =>
      call(t, BOOK, { range: { resourceId: gid('Resource', room), startAt: at(from), endAt: at(to) }, customer: who });
    expect(await range(10, 10.5)).toMatchObject({ __typename: 'BookingReceipt' });
    expect(await range(10.5, 11, customer(2))).toMatchObject({ __typename: 'BookingPolicyError', policy: 'BUFFER' });
    expect(await range(9.5, 10, customer(2))).toMatchObject({ __typename: 'BookingPolicyError', policy: 'BUFFER' });
    expect(await range(10.75, 11.25, customer(2))).toMatchObject({ __typename: 'BookingReceipt' });
    expect(await range(9, 9.75, customer(3))).toMatchObject({ __typename: 'BookingReceipt' });

    // Free-range search with no working hours lists nothing; give the room hours first.
    await t.app.db.sql.query(
      `INSERT INTO availability_rules (location_id, resource_id, kind, days_of_week, start_minute, end_minute) VALUES ($1, $2, 'WEEKLY', '{1,2,3,4,5,6,7}', 480, 1080)`,
      [locationId, room],
    );
    const search = expectNoErrors(await t.execute(SEARCH, { resourceId: gid('Resource', room), from: at(8), to: at(13), d: 30 }));
    const starts = search.searchAvailability.results[0].ranges.map((r: { startAt: string }) => r.startAt);
    // Booked: 09:00-09:45, 10:00-10:30, 10:45-11:15. Each needs 15 minutes free around it.
    expect(starts).toEqual([at(8), at(8.25), at(11.5), at(11.75), at(12), at(12.25), at(12.5)]);
    for (const s of [8.5, 9.75, 10.25, 11.25]) expect(await range(s, s + 0.5, customer(`s${s}`))).toMatchObject({ policy: 'BUFFER' });
    expect(await range(11.5, 12, customer(4))).toMatchObject({ __typename: 'BookingReceipt' });
  });

  it('a BUFFER refusal names the buffer it is short of', async () => {
    const base = new Date(Math.floor(Date.now() / DAY) * DAY + 4 * DAY);
    const at = (h: number) => new Date(base.getTime() + h * HOUR).toISOString();
    const bookIn =
      (room: string) =>
      (from: number, to: number, who = customer()) =>
        call(t, BOOK, { range: { resourceId: gid('Resource', room), startAt: at(from), endAt: at(to) }, customer: who });
    // Only a buffer before: every refusal names it, on either side of the booking.
    const beforeOnly = await f.resource(locationId, { exclusive: true });
    await setPolicy(beforeOnly, { bufferBeforeMinutes: 60, bufferAfterMinutes: null });
    const inBefore = bookIn(beforeOnly);
    expect(await inBefore(12, 12.5)).toMatchObject({ __typename: 'BookingReceipt' });
    for (const [from, to] of [
      [11, 11.5],
      [13, 13.5],
    ] as const)
      expect(await inBefore(from, to, customer(`b${from}`))).toMatchObject({ policy: 'BUFFER', policyField: 'bufferBeforeMinutes' });
    // Both, 90 before and 30 after: 15 minutes from the booking is short of the after buffer, 60 only of the before one.
    const both = await f.resource(locationId, { exclusive: true });
    await setPolicy(both, { bufferBeforeMinutes: 90, bufferAfterMinutes: 30 });
    const inBoth = bookIn(both);
    expect(await inBoth(12, 12.5)).toMatchObject({ __typename: 'BookingReceipt' });
    expect(await inBoth(12.75, 13.25, customer('a1'))).toMatchObject({ policy: 'BUFFER', policyField: 'bufferAfterMinutes' });
    expect(await inBoth(13.5, 14, customer('a2'))).toMatchObject({ policy: 'BUFFER', policyField: 'bufferBeforeMinutes' });
  });

  it('two customers racing for the last place of a per-day limit: one wins (many parallel bookings, rows counted)', async () => {
    const person = await f.resource(locationId);
    await setPolicy(person, { maxBookingsPerDay: 3 });
    const day = new Date(Math.floor(Date.now() / DAY) * DAY + 5 * DAY);
    const slots: string[] = [];
    for (let i = 0; i < 24; i++)
      slots.push(await f.slot(locationId, person, { startAt: new Date(day.getTime() + 8 * HOUR + i * 15 * MIN), minutes: 15, capacity: 5 }));
    // 2 booked first; then 40 parallel attempts race for the one place left.
    expect(await bookSlot(slots[0]!, customer('a'))).toMatchObject({ __typename: 'BookingReceipt' });
    expect(await bookSlot(slots[1]!, customer('b'))).toMatchObject({ __typename: 'BookingReceipt' });
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? bookSlot : (id: string, who: object) => call(t, HOLD, { slotId: gid('Slot', id), customer: who }))(
          slots[2 + (i % 22)]!,
          customer(`race${i}`),
        ),
      ),
    );
    expect(results.filter((r) => r.__typename === 'BookingReceipt')).toHaveLength(1);
    expect(results.filter((r) => r.__typename === 'BookingPolicyError' && r.policy === 'DAILY_LIMIT')).toHaveLength(39);
    const rows = await t.app.db.sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM bookings WHERE resource_id = $1 AND status IN ('HELD', 'CONFIRMED')`,
      [person],
    );
    expect(rows[0]!.n).toBe(3);
    // The day is full: nothing of it is shown or counted in availableDates; the next day is untouched.
    expect(await shown(person, day, new Date(day.getTime() + DAY))).toEqual([]);
    const date = day.toISOString().slice(0, 10);
    const dates = expectNoErrors(await t.execute(DATES, { resourceId: gid('Resource', person), from: date, to: date }));
    expect(dates.availableDates.dates).toEqual([]);
  });

  it('per-customer limits per day and week (email or phone identifies the customer)', async () => {
    const person = await f.resource(locationId);
    await setPolicy(person, { maxBookingsPerCustomerPerDay: 1, maxBookingsPerCustomerPerWeek: 2 });
    // A Monday at least a week ahead, UTC.
    const monday = new Date(Math.floor(Date.now() / DAY) * DAY + 7 * DAY);
    monday.setUTCDate(monday.getUTCDate() - ((monday.getUTCDay() + 6) % 7) + 7);
    const slot = async (dayOffset: number, hour: number) =>
      f.slot(locationId, person, { startAt: new Date(monday.getTime() + dayOffset * DAY + hour * HOUR), capacity: 3 });
    const ada = { name: 'Ada', email: 'ada@example.com', phone: '+44 20 7946 0000' };
    const adaOtherEmail = { name: 'Ada', email: 'ada.work@example.com', phone: '+44 20 7946 0000' };
    expect(await bookSlot(await slot(0, 9), ada)).toMatchObject({ __typename: 'BookingReceipt' });
    expect(await bookSlot(await slot(0, 11), adaOtherEmail)).toMatchObject({
      policy: 'CUSTOMER_DAILY_LIMIT',
      policyField: 'maxBookingsPerCustomerPerDay',
    });
    expect(await bookSlot(await slot(0, 12), customer('bob'))).toMatchObject({ __typename: 'BookingReceipt' });
    expect(await bookSlot(await slot(2, 9), ada)).toMatchObject({ __typename: 'BookingReceipt' });
    expect(await bookSlot(await slot(6, 23), ada)).toMatchObject({ policy: 'CUSTOMER_WEEKLY_LIMIT' });
    expect(await bookSlot(await slot(7, 0), ada)).toMatchObject({ __typename: 'BookingReceipt' });
  });

  it('reschedule into a buffer is refused; staff override with a reason books and is audited; non-staff may not override', async () => {
    const person = await f.resource(locationId);
    await setPolicy(person, { bufferAfterMinutes: 30, minNoticeMinutes: 120 });
    const base = new Date(Math.floor(Date.now() / DAY) * DAY + 4 * DAY + 10 * HOUR);
    const a = await f.slot(locationId, person, { startAt: base });
    const b = await f.slot(locationId, person, { startAt: new Date(base.getTime() + 2 * HOUR) });
    const next = await f.slot(locationId, person, { startAt: new Date(base.getTime() + 30 * MIN) });
    const booked = await bookSlot(a);
    const moved = await bookSlot(b, customer(2));
    const r = await call(t, RESCHEDULE, { bookingId: moved.booking.id, manageToken: moved.manageToken, slotId: gid('Slot', next) });
    expect(r).toMatchObject({ __typename: 'BookingPolicyError', policy: 'BUFFER' });
    expect(booked.__typename).toBe('BookingReceipt');

    const soon = await f.slot(locationId, person, { startAt: quarterAfter(30) });
    const override = { override: { reason: 'Urgent: called in by phone' } };
    const publicTry = await bookSlot(soon, customer(3), override);
    expect(publicTry).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'override'] }] });
    const customerToken = await t.tokenFor([]);
    expect(await bookSlot(soon, customer(3), override, customerToken)).toMatchObject({ __typename: 'ValidationError' });
    expect(await f.bookingCounts(soon)).toEqual({});

    const staff = await t.tokenFor(['frontdesk']);
    const done = await bookSlot(soon, customer(3), override, staff);
    expect(done).toMatchObject({ __typename: 'BookingReceipt' });
    const audit = await t.app.db.sql.query<{ action: string; new_values: { policies: string[]; reason: string }; actor_label: string }>(
      `SELECT action, new_values, actor_label FROM audit_events WHERE entity_id IN (SELECT id FROM bookings WHERE slot_id = $1) ORDER BY created_at, action`,
      [soon],
    );
    expect(audit.map((a) => a.action).sort()).toEqual(['CONFIRMED', 'POLICY_OVERRIDDEN']);
    expect(audit.find((a) => a.action === 'POLICY_OVERRIDDEN')!.new_values).toEqual({
      policies: ['MIN_NOTICE'],
      reason: 'Urgent: called in by phone',
    });
  });
});

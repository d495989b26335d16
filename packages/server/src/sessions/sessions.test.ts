import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { BOOK, call } from '../../test/kit/documents.js';
import { gid, GUEST, HOST, clinic } from '../../test/kit/fixtures.js';
import { renderBookingMail } from '../../test/kit/mail.js';

const CREATE_SESSION = `mutation ($input: CreateSessionInput!) { createSession(input: $input) {
  __typename
  ... on Slot { id startAt endAt durationMinutes capacity isSession status }
  ... on ValidationError { code fieldErrors { path message } }
  ... on NotFoundError { code }
} }`;

let t: TestApp;
let c: Awaited<ReturnType<typeof clinic>>;
let hostToken: string;
const NOW = new Date('2054-12-01T12:00:00Z');

beforeAll(async () => {
  t = await createTestApp();
  c = await clinic(t);
  t.app.services.sessions.now = () => NOW;
  hostToken = await t.tokenFor(['user'], HOST.email);
});
afterAll(() => t?.close());

const create = (input: Record<string, unknown>, token?: string) =>
  t.execute(CREATE_SESSION, { input: { resourceId: gid('Resource', c.hostId), ...input } }, token ? { token } : {});

describe('createSession', () => {
  it('opens 30, 60 and 90 minute sessions (capacity 1) for the host and for staff', async () => {
    const scheduler = await t.tokenFor(['scheduler']);
    const made = [
      await create({ startAt: '2055-02-01T15:00:00Z', durationMinutes: 30 }, hostToken),
      await create({ startAt: '2055-02-01T16:00:00Z', durationMinutes: 60 }, scheduler),
      await create({ startAt: '2055-02-01T18:00:00Z', durationMinutes: 90 }, t.adminToken),
    ].map((r) => r.data?.createSession);
    expect(made).toEqual([
      expect.objectContaining({
        __typename: 'Slot',
        startAt: '2055-02-01T15:00:00.000Z',
        endAt: '2055-02-01T15:30:00.000Z',
        durationMinutes: 30,
        capacity: 1,
        isSession: true,
      }),
      expect.objectContaining({ endAt: '2055-02-01T17:00:00.000Z', durationMinutes: 60 }),
      expect.objectContaining({ endAt: '2055-02-01T19:30:00.000Z', durationMinutes: 90 }),
    ]);
    // A guest books it like any slot; both parties are invited.
    const { booking } = await call(t, BOOK, { slotId: made[0].id, customer: GUEST });
    await renderBookingMail(t);
    const rows = await t.app.db.sql.query<{ kind: string }>(
      `SELECT o.kind FROM outbox_messages o JOIN bookings b ON b.id = o.booking_id WHERE b.ics_uid = $1`,
      [booking.icsUid],
    );
    expect(rows.map((r) => r.kind)).toEqual(['invitation', 'invitation']);
  });

  it('refuses 45 minutes with a ValidationError, and the database refuses it too', async () => {
    const before = await slotCount();
    expect((await create({ startAt: '2055-02-02T15:00:00Z', durationMinutes: 45 }, hostToken)).data?.createSession).toEqual({
      __typename: 'ValidationError',
      code: 'VALIDATION_FAILED',
      fieldErrors: [{ path: ['input', 'durationMinutes'], message: 'must be 30, 60 or 90' }],
    });
    const insert = (minutes: number, span: number) =>
      t.app.db.sql.query(
        `INSERT INTO slots (location_id, resource_id, time_zone, start_at, end_at, capacity, session_minutes)
         VALUES ($1, $2, 'America/New_York', '2055-02-02T15:00:00Z', '2055-02-02T15:00:00Z'::timestamptz + make_interval(mins => $4::int), 1, $3)`,
        [c.locationId, c.hostId, minutes, span],
      );
    await expect(insert(45, 45)).rejects.toThrow(/slots_session_shape/);
    await expect(insert(30, 45)).rejects.toThrow(/slots_session_shape/);
    expect(await slotCount()).toBe(before);
  });

  it('only staff and the host may; a room or a past time is refused; overlaps are refused', async () => {
    const stranger = await t.tokenFor(['user']);
    const frontdesk = await t.tokenFor(['frontdesk']);
    const at = { startAt: '2055-02-03T15:00:00Z', durationMinutes: 30 };
    expect((await create(at, stranger)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await create(at, frontdesk)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await create(at)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const room = await t.execute(CREATE_SESSION, { input: { resourceId: gid('Resource', c.roomId), ...at } }, { token: t.adminToken });
    expect(room.data?.createSession).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'resourceId'] }] });
    expect((await create({ ...at, startAt: '2054-11-30T15:00:00Z' }, hostToken)).data?.createSession).toMatchObject({
      fieldErrors: [{ path: ['input', 'startAt'] }],
    });
    expect((await create(at, hostToken)).data?.createSession.__typename).toBe('Slot');
    expect((await create({ startAt: '2055-02-03T15:15:00Z', durationMinutes: 60 }, hostToken)).data?.createSession).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['input', 'startAt'], message: expect.stringContaining('overlaps') }],
    });
  });

  it('generation leaves session slots alone', async () => {
    const made = await create({ startAt: '2055-02-04T15:00:00Z', durationMinutes: 60 }, hostToken);
    const id = made.data!.createSession.id;
    await t.app.services.generation.generate({ resourceId: c.hostId, from: '2055-02-04', to: '2055-02-04' });
    const node = await t.execute(`query ($id: ID!) { node(id: $id) { ... on Slot { status isSession } } }`, { id });
    expect(node.data?.node).toEqual({ status: 'OPEN', isSession: true });
  });
});

async function slotCount() {
  return (await t.app.db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM slots`))[0]!.n;
}

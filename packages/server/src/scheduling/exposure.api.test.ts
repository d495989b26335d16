import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { EXPOSED } from '../../test/kit/documents.js';
import { fixtures, gid, type Fixtures } from '../../test/kit/fixtures.js';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { SLOT_CHANGES_TOPIC, changesOf } from '../events/slot-events.js';
import { EXPOSURE_TTL_MS, MemoryExposureCache } from './exposure-cache.js';

const DATE = '2026-12-03'; // a Thursday; London is on GMT, so local times equal UTC
/** Four slots in each of morning, afternoon and evening. */
const DAY = ['09:00', '09:30', '10:00', '10:30', '13:00', '13:30', '14:00', '14:30', '18:00', '18:30', '19:00', '19:30'].map((time) => ({
  start: `${DATE}T${time}:00Z`,
}));

let t: TestApp;
let location: { id: string };
let f: Fixtures;
let person: string;
let personId: string;

beforeAll(async () => {
  t = await createTestApp();
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-12-01T08:00:00Z'));
  f = fixtures(t.app.db.sql);
  location = { id: await f.location('Europe/London') };
  for (let i = 0; i < 2; i++) {
    const resource = { id: await f.resource(location.id) };
    await f.slots({ locationId: location.id, resourceId: resource.id, timeZone: 'Europe/London' }, DAY);
    if (i === 0) [person, personId] = [gid('Resource', resource.id), resource.id];
  }
});
afterAll(async () => {
  vi.useRealTimers();
  await t.close();
});

const expose = async (vars: Record<string, unknown>, options: { token?: string; headers?: Record<string, string> } = {}) =>
  expectNoErrors(await t.execute(EXPOSED, { date: DATE, ...vars }, options)).exposedSlots;
const ids = (result: { slots: { id: string }[] }) => result.slots.map((s) => s.id);

describe('exposedSlots', () => {
  it('shows a session the same slots and the same k each time, 1-3 for a person', async () => {
    const first = await expose({ resourceId: person, sessionId: 'same' });
    expect(first).toMatchObject({ __typename: 'ExposedSlots', date: DATE, timeZone: 'Europe/London', total: 12, hasMore: true, variant: 'control' });
    expect(first.k).toBeGreaterThanOrEqual(1);
    expect(first.k).toBeLessThanOrEqual(3);
    expect(first.slots).toHaveLength(first.k);
    expect(new Set(first.slots.map((s: { dayPart: string }) => s.dayPart)).size).toBe(first.k); // one per day part
    const again = await expose({ resourceId: person, sessionId: 'same' });
    expect(again).toEqual(first);
  });

  it('differs between sessions and keeps 3-5 slots with every day part for a location', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const result = await expose({ locationId: gid('Location', location.id), sessionId: `visitor-${i}` });
      expect(result.total).toBe(24);
      expect(result.k).toBeGreaterThanOrEqual(3);
      expect(result.k).toBeLessThanOrEqual(5);
      expect(new Set(result.slots.map((s: { dayPart: string }) => s.dayPart))).toEqual(new Set(['MORNING', 'AFTERNOON', 'EVENING']));
      seen.add(ids(result).join());
    }
    expect(seen.size).toBeGreaterThan(6);
  });

  it('takes the session from X-Session-Id, and the user id from a signed-in caller', async () => {
    const byHeader = await expose({ resourceId: person }, { headers: { 'x-session-id': 'header-session' } });
    expect(await expose({ resourceId: person, sessionId: 'header-session' })).toEqual(byHeader);
    const token = await t.tokenFor(['user']);
    const signedIn = await expose({ resourceId: person, sessionId: 'a' }, { token });
    expect(await expose({ resourceId: person, sessionId: 'b' }, { token })).toEqual(signedIn);
    const anonymous = await expose({ resourceId: person });
    expect(anonymous).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['sessionId'] }] });
  });

  it('switches the algorithm with X-Exposure-Variant; unknown variants run control', async () => {
    const header = (variant: string) => ({ headers: { 'x-exposure-variant': variant } });
    const control = await expose({ locationId: gid('Location', location.id), sessionId: 'variant' }, header('control'));
    const plain = await expose({ locationId: gid('Location', location.id), sessionId: 'variant' }, header('no-fairness'));
    expect(control.variant).toBe('control');
    expect(plain.variant).toBe('no-fairness');
    expect(plain.k).toBe(control.k); // the same seed decides k
    expect((await expose({ locationId: gid('Location', location.id), sessionId: 'variant' }, header('bogus'))).variant).toBe('control');
    // Over many sessions the plain shuffle sometimes misses a day part; control never does.
    let missing = 0;
    for (let i = 0; i < 30; i++) {
      const result = await expose({ resourceId: person, sessionId: `plain-${i}` }, header('no-fairness'));
      if (new Set(result.slots.map((s: { dayPart: string }) => s.dayPart)).size < result.slots.length) missing++;
    }
    expect(missing).toBeGreaterThan(0);
  });

  it('stays the same for 7 minutes after new slots appear; slots taken meanwhile drop out', async () => {
    const prisma = t.app.db.prisma;
    // A session whose exposure has at least two slots, so one can be taken and one stay.
    let session = '';
    let first: { k: number; slots: { id: string }[] } = { k: 0, slots: [] };
    for (let i = 0; first.k < 2; i++) first = await expose({ resourceId: person, sessionId: (session = `sticky-${i}`) });
    await f.slots({ locationId: location.id, resourceId: personId, timeZone: 'Europe/London' }, [
      { start: `${DATE}T11:00:00Z` },
      { start: `${DATE}T15:00:00Z` },
      { start: `${DATE}T20:00:00Z` },
    ]);
    vi.setSystemTime(new Date('2026-12-01T08:06:00Z'));
    const later = await expose({ resourceId: person, sessionId: session });
    expect(ids(later)).toEqual(ids(first));
    expect(later.total).toBe(15);

    const takenId = decodeGlobalID(first.slots[0]!.id).id;
    await prisma.slot.update({ where: { id: takenId }, data: { booked: 1 } });
    const afterBooking = await expose({ resourceId: person, sessionId: session });
    expect(ids(afterBooking)).toEqual(ids(first).slice(1));
    expect(afterBooking).toMatchObject({ k: first.k, total: 14, hasMore: true });
    await prisma.slot.update({ where: { id: takenId }, data: { booked: 0 } });

    // Once nothing of it is bookable any more, a new choice is made at once.
    const rest = first.slots.slice(1).map((s) => decodeGlobalID(s.id).id);
    await prisma.slot.updateMany({ where: { id: { in: rest } }, data: { status: 'BLOCKED' } });
    const chosenAgain = await expose({ resourceId: person, sessionId: session });
    expect(chosenAgain.slots.length).toBeGreaterThan(0);
    expect(ids(chosenAgain).some((id: string) => rest.includes(decodeGlobalID(id).id))).toBe(false);
    await prisma.slot.updateMany({ where: { id: { in: rest } }, data: { status: 'OPEN' } });
  });

  it('frees expired holds before choosing, and publishes the freed slots', async () => {
    const prisma = t.app.db.prisma;
    const resource = { id: await f.resource(location.id) };
    const [expired, live] = await f.slots({ locationId: location.id, resourceId: resource.id, timeZone: 'Europe/London' }, [
      { start: `${DATE}T09:00:00Z`, held: 1 },
      { start: `${DATE}T13:00:00Z`, held: 1 },
    ]);
    const stale = {
      id: await f.booking({
        slotId: expired!.id,
        startAt: `${DATE}T09:00:00Z`,
        endAt: `${DATE}T09:30:00Z`,
        status: 'HELD',
        holdExpiresAt: '2026-12-01T07:59:00Z',
      }),
    };
    await f.booking({
      slotId: live!.id,
      startAt: `${DATE}T13:00:00Z`,
      endAt: `${DATE}T13:30:00Z`,
      status: 'HELD',
      holdExpiresAt: '2026-12-01T08:30:00Z',
    });

    const events = t.app.pubsub.subscribe(SLOT_CHANGES_TOPIC)[Symbol.asyncIterator]();
    const next = events.next();
    const result = await expose({ resourceId: gid('Resource', resource.id), sessionId: 'holds' });
    expect(result).toMatchObject({ total: 1, k: 1, hasMore: false, slots: [{ id: gid('Slot', expired!.id), remaining: 1 }] });
    expect((await prisma.booking.findUniqueOrThrow({ where: { id: stale.id } })).status).toBe('EXPIRED');
    expect(await prisma.slot.findUniqueOrThrow({ where: { id: live!.id } })).toMatchObject({ held: 1, status: 'FULL' });
    expect(changesOf((await next).value)).toMatchObject([{ slotId: expired!.id, reason: 'EXPIRED', resourceId: resource.id }]);
    await events.return?.();
  });

  it('rejects a past date, a form scope and two scopes with typed errors', async () => {
    expect(await expose({ resourceId: person, sessionId: 's', date: '2026-11-30' })).toEqual({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['date'], message: 'the window is entirely in the past' }],
    });
    const both = await expose({ resourceId: person, locationId: gid('Location', location.id), sessionId: 's' });
    expect(both.fieldErrors.map((e: { path: string[] }) => e.path)).toEqual([['resourceId'], ['locationId']]);
  });
});

describe('MemoryExposureCache', () => {
  it('forgets an exposure after 7 minutes', async () => {
    let now = new Date('2026-12-01T08:00:00Z');
    const cache = new MemoryExposureCache(() => now);
    await cache.set('expose:s:2026-12-03:resource:r', { slotIds: ['a'], k: 1, variant: 'control' });
    now = new Date(now.getTime() + EXPOSURE_TTL_MS - 1);
    expect(await cache.get('expose:s:2026-12-03:resource:r')).toEqual({ slotIds: ['a'], k: 1, variant: 'control' });
    now = new Date(now.getTime() + 1);
    expect(await cache.get('expose:s:2026-12-03:resource:r')).toBeNull();
  });

  it('stays bounded: when full it drops expired entries, then the oldest', async () => {
    let now = new Date('2026-12-01T08:00:00Z');
    const cache = new MemoryExposureCache(() => now, 3);
    const value = { slotIds: [], k: 0, variant: 'control' as const };
    await cache.set('old', value);
    now = new Date(now.getTime() + EXPOSURE_TTL_MS);
    await cache.set('a', value);
    await cache.set('b', value);
    await cache.set('c', value); // full: 'old' has expired and goes
    expect(await cache.get('a')).not.toBeNull();
    await cache.set('d', value); // full, nothing expired: the oldest, 'a', goes
    expect(await cache.get('a')).toBeNull();
    expect(await Promise.all(['b', 'c', 'd'].map((k) => cache.get(k)))).toEqual([value, value, value]);
  });
});

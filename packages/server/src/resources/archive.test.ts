import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { BOOK, call } from '../../test/kit/documents.js';
import { customer, fixtures, gid } from '../../test/kit/fixtures.js';

const ARCHIVE = `mutation ($id: ID!, $active: Boolean!) { updateResource(id: $id, input: { active: $active }) { __typename ... on Resource { active } } }`;
const AVAILABILITY = `query ($r: ID!, $from: DateTime!, $to: DateTime!) { availability(resourceId: $r, from: $from, to: $to) {
  ... on Availability { slots { id status remaining } } } }`;

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t?.close());

describe('archiving a resource', () => {
  it('withdraws its free future slots (not offered, not bookable); a slot with a booking stays for staff', async () => {
    const f = fixtures(t.app.db.sql);
    const locationId = await f.location('Europe/Berlin');
    const resourceId = await f.resource(locationId);
    const day = Date.UTC(2055, 5, 1, 9);
    const [booked, free] = await f.slots({ locationId, resourceId }, [
      { start: new Date(day).toISOString() },
      { start: new Date(day + 3_600_000).toISOString() },
    ]);
    expect(await call(t, BOOK, { slotId: gid('Slot', booked!.id), customer: customer('kept') })).toMatchObject({ __typename: 'BookingReceipt' });

    expect(
      expectNoErrors(await t.execute(ARCHIVE, { id: gid('Resource', resourceId), active: false }, { token: t.adminToken })).updateResource,
    ).toEqual({
      __typename: 'Resource',
      active: false,
    });
    const read = expectNoErrors(
      await t.execute(AVAILABILITY, {
        r: gid('Resource', resourceId),
        from: new Date(day - 3_600_000).toISOString(),
        to: new Date(day + 86_400_000).toISOString(),
      }),
    );
    // The free one is gone from availability; the booked one stays, full.
    expect(read.availability.slots).toEqual([{ id: gid('Slot', booked!.id), status: 'FULL', remaining: 0 }]);
    expect(await call(t, BOOK, { slotId: gid('Slot', free!.id), customer: customer('late') })).toMatchObject({
      __typename: 'SlotUnavailableError',
      reason: 'CANCELLED',
    });
    expect(await f.bookingCounts(booked!.id)).toEqual({ CONFIRMED: 1 });
  });

  it('made active again, the slot horizon job plans its slots again', async () => {
    const location = await t.app.services.locations.create({ name: 'Reopened', timeZone: 'UTC' });
    const resource = await t.app.services.resources.create({ locationId: location.id, kind: 'PERSON', name: 'Back' });
    await t.app.services.rules.create({
      resourceId: resource.id,
      kind: 'WEEKLY',
      daysOfWeek: [1, 2, 3, 4, 5, 6, 7],
      startTime: '09:00',
      endTime: '10:00',
    });
    const fillHorizon = async () => {
      for (let after: string | null = null; ; ) {
        const run = await t.app.services.generation.fillHorizon({ after });
        if (!run.next) return;
        after = run.next;
      }
    };
    const open = () => t.app.db.prisma.slot.count({ where: { resourceId: resource.id, status: 'OPEN', startAt: { gt: new Date() } } });
    await fillHorizon();
    const planned = await open();
    expect(planned).toBeGreaterThan(0);
    const archive = (active: boolean) => t.execute(ARCHIVE, { id: gid('Resource', resource.id), active }, { token: t.adminToken });
    await archive(false);
    expect(await open()).toBe(0);
    await fillHorizon(); // an archived resource is not planned
    expect(await open()).toBe(0);
    await archive(true);
    await fillHorizon();
    expect(await open()).toBe(planned);
  });
});

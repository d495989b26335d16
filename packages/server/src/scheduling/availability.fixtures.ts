import { randomUUID } from 'node:crypto';
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { BookingStatus, ResourceKind, SlotStatus } from '../generated/prisma/enums.js';

/** Test data written straight to the database: the read side is what the tests exercise. */

export const gid = (type: string, id: string) => encodeGlobalID(type, id);

export async function makeLocation(prisma: PrismaClient, timeZone: string, name = `Loc ${randomUUID().slice(0, 8)}`) {
  return prisma.location.create({ data: { name, timeZone } });
}

export async function makeResource(prisma: PrismaClient, locationId: string, options: { exclusive?: boolean; kind?: ResourceKind; name?: string } = {}) {
  return prisma.resource.create({
    data: {
      locationId,
      kind: options.kind ?? (options.exclusive ? 'ROOM' : 'PERSON'),
      name: options.name ?? `Res ${randomUUID().slice(0, 8)}`,
      exclusive: options.exclusive ?? false,
    },
  });
}

export interface SlotSpec {
  start: string;
  minutes?: number;
  capacity?: number;
  booked?: number;
  held?: number;
  status?: SlotStatus;
}

/** Slots of a resource (or location-wide when resourceId is null), in the location's zone. */
export async function makeSlots(
  prisma: PrismaClient,
  owner: { locationId: string; resourceId: string | null; timeZone: string; formId?: string },
  specs: SlotSpec[],
) {
  await prisma.slot.createMany({
    data: specs.map((s) => {
      const startAt = new Date(s.start);
      return {
        locationId: owner.locationId,
        resourceId: owner.resourceId,
        formId: owner.formId ?? null,
        timeZone: owner.timeZone,
        startAt,
        endAt: new Date(startAt.getTime() + (s.minutes ?? 30) * 60_000),
        capacity: s.capacity ?? 1,
        booked: s.booked ?? 0,
        held: s.held ?? 0,
        status: s.status ?? 'OPEN',
      };
    }),
  });
  return prisma.slot.findMany({
    where: { locationId: owner.locationId, resourceId: owner.resourceId, startAt: { in: specs.map((s) => new Date(s.start)) } },
    orderBy: { startAt: 'asc' },
  });
}

/** A booking row as the booking engine would leave it (customer fields are placeholders). */
export async function makeBooking(
  prisma: PrismaClient,
  data: { slotId?: string; resourceId?: string; exclusive?: boolean; startAt: string; endAt: string; status: BookingStatus; holdExpiresAt?: string },
) {
  return prisma.booking.create({
    data: {
      kind: data.slotId ? 'SLOT' : 'RANGE',
      slotId: data.slotId ?? null,
      resourceId: data.resourceId ?? null,
      exclusive: data.exclusive ?? !data.slotId,
      startAt: new Date(data.startAt),
      endAt: new Date(data.endAt),
      status: data.status,
      holdExpiresAt: data.holdExpiresAt ? new Date(data.holdExpiresAt) : null,
      customerName: 'Test Customer',
      customerEmail: 'encrypted-placeholder',
      customerEmailHash: randomUUID(),
      icsUid: `${randomUUID()}@test`,
    },
  });
}

/** The exposedSlots query the exposure tests share. */
export const EXPOSED = `query ($resourceId: ID, $locationId: ID, $date: Date!, $sessionId: String) {
  exposedSlots(resourceId: $resourceId, locationId: $locationId, date: $date, sessionId: $sessionId) {
    __typename
    ... on ExposedSlots { date timeZone total hasMore k variant slots { id startAt localStart dayPart remaining } }
    ... on ValidationError { fieldErrors { path message } }
  }
}`;

import { GraphQLError } from 'graphql';
import { z } from 'zod';
import type { PrismaClient, Slot } from '../generated/prisma/client.js';
import { runAndPublish, slotChangesIn } from '../live/after-commit.js';
import type { SlotEvents } from '../events/slot-events.js';
import { lockScopes, scopeLockKey } from '../scheduling/slot-reconcile.js';
import { hasAnyRole, type Actor } from '../shared/actor.js';
import { NotFoundError, ValidationError, parseInput } from '../shared/errors.js';
import { insertSessionSlot, overlappingSlotStart } from './sessions.store.js';

/** Seed 004 slice 1: the lengths a session may have (the database checks the same). */
export const SESSION_MINUTES = [30, 60, 90] as const;

/** Staff who open sessions for any host. */
const SESSION_STAFF = ['manager', 'scheduler'] as const;

const createSessionInput = z.object({
  resourceId: z.string(),
  startAt: z.date(),
  durationMinutes: z
    .number()
    .int()
    .refine((m) => (SESSION_MINUTES as readonly number[]).includes(m), 'must be 30, 60 or 90'),
});
export type CreateSessionInput = z.input<typeof createSessionInput>;

/**
 * Two-party sessions: a host (a PERSON resource with an email) opens a one-off slot of 30, 60 or
 * 90 minutes for one guest, who books it like any slot (hold/confirm/book). Invites follow from
 * the booking (calendar/booking-mail.ts), not from here.
 */
export class SessionsService {
  now: () => Date = () => new Date();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly slotEvents: SlotEvents,
  ) {}

  async create(input: CreateSessionInput, actor: Actor): Promise<Slot> {
    const data = parseInput(createSessionInput, input);
    if (data.startAt.getTime() <= this.now().getTime()) throw ValidationError.field(['input', 'startAt'], 'must be in the future');
    const resource = await this.prisma.resource.findUnique({ where: { id: data.resourceId }, include: { location: { select: { timeZone: true } } } });
    if (!resource?.active) throw new NotFoundError('Resource', data.resourceId);
    if (resource.kind !== 'PERSON' || !resource.email) {
      throw ValidationError.field(['input', 'resourceId'], 'must be a person with an email address (the host)');
    }
    const isHost = resource.email.toLowerCase() === actor.email.toLowerCase();
    if (!isHost && !hasAnyRole(actor, SESSION_STAFF)) {
      throw new GraphQLError('Only staff and the host open sessions', { extensions: { code: 'FORBIDDEN', http: { status: 200 } } });
    }
    const endAt = new Date(data.startAt.getTime() + data.durationMinutes * 60_000);
    return runAndPublish(this.prisma, this.slotEvents, async (tx, changes) => {
      // Generation of this person's slots waits, so the overlap check below stays true until commit.
      await lockScopes(tx, [scopeLockKey({ locationId: resource.locationId, resourceId: resource.id })]);
      const overlap = await overlappingSlotStart(tx, resource.id, data.startAt, endAt);
      if (overlap) throw ValidationError.field(['input', 'startAt'], `overlaps another slot of this person (starting ${overlap.toISOString()})`);
      const slot = await insertSessionSlot(tx, {
        locationId: resource.locationId,
        resourceId: resource.id,
        timeZone: resource.location.timeZone,
        startAt: data.startAt,
        endAt,
        sessionMinutes: data.durationMinutes,
      });
      changes.push(...(await slotChangesIn(tx, [slot.id], 'GENERATED')));
      return slot;
    });
  }
}

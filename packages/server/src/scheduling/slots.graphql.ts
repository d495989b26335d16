import { builder } from '../builder.js';
import { SlotStatus } from '../generated/prisma/enums.js';
import { dayPartOf, toLocal, type LocalView } from '../shared/time.js';

export const SlotStatusEnum = builder.enumType(SlotStatus, { name: 'SlotStatus' });
export const DayPartEnum = builder.enumType('DayPart', {
  values: ['MORNING', 'AFTERNOON', 'EVENING', 'NIGHT'] as const,
  description: 'Local time of day of a slot start: morning 06-12, afternoon 12-17, evening 17-22, night otherwise.',
});

const localStart = (slot: { startAt: Date; timeZone: string }): LocalView => toLocal(slot.startAt, slot.timeZone);

/** A bookable instance. Public: counts and times only, never who booked. */
export const SlotRef = builder.prismaNode('Slot', {
  id: { field: 'id' },
  fields: (t) => ({
    startAt: t.expose('startAt', { type: 'DateTime' }),
    endAt: t.expose('endAt', { type: 'DateTime' }),
    isSession: t.boolean({ description: 'A two-party session slot opened with createSession.', resolve: (s) => s.sessionMinutes !== null }),
    durationMinutes: t.int({ resolve: (s) => Math.round((s.endAt.getTime() - s.startAt.getTime()) / 60_000) }),
    timeZone: t.exposeString('timeZone', {
      description: "The zone local times are shown in: the viewer's when the query was asked with timeZone, else the location or form zone.",
    }),
    localDate: t.field({ type: 'Date', resolve: (s) => localStart(s).date }),
    localStart: t.string({ description: 'HH:MM on the local wall clock', resolve: (s) => localStart(s).time }),
    localEnd: t.string({ description: 'HH:MM on the local wall clock', resolve: (s) => toLocal(s.endAt, s.timeZone).time }),
    localStartAt: t.string({ description: 'Start as ISO 8601 with the local offset', resolve: (s) => localStart(s).iso }),
    dayPart: t.field({ type: DayPartEnum, resolve: (s) => dayPartOf(localStart(s).hour) }),
    capacity: t.exposeInt('capacity'),
    booked: t.exposeInt('booked'),
    held: t.exposeInt('held'),
    remaining: t.int({
      description:
        'Places still free: capacity - booked - held; 0 when FULL, BLOCKED or CANCELLED. A slot of an exclusive resource whose time another booking takes (a range over it) is FULL.',
      resolve: (s) => (s.status === 'OPEN' || s.status === 'PARTIAL' ? Math.max(0, s.capacity - s.booked - s.held) : 0),
    }),
    status: t.expose('status', { type: SlotStatusEnum }),
    version: t.exposeInt('version', { description: 'Grows with every change; drop live events older than what you have.' }),
    resource: t.relation('resource', { nullable: true }),
    location: t.relation('location', { nullable: true }),
  }),
});

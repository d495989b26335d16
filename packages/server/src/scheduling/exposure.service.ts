import type { SqlQuery } from '../db/database.js';
import type { PrismaClient, Slot } from '../generated/prisma/client.js';
import type { SlotChange, SlotEvents } from '../events/slot-events.js';
import { ValidationError } from '../shared/errors.js';
import { bookableUnderPolicies } from '../policies/visibility.js';
import { nextLocalDate, startOfLocalDate, toLocal } from '../shared/time.js';
import { checkDateWindow, loadScope, oneScope, type ScopeIds } from './availability-window.js';
import { exposureKey, type ExposureCache } from './exposure-cache.js';
import { exposureSeed, hourSalt, pickExposure, type ExposureVariant } from './exposure.js';

/** What exposure records; createServices injects the Prometheus implementation (http/metrics.ts). */
export interface ExposureMetrics {
  /** One exposedSlots answer showed this many slots. */
  recordExposure(slotCount: number): void;
}

/** Frees the expired holds of the given slots in one transaction and reports the slot changes. */
export type ReleaseExpiredHolds = (options: { slotIds?: string[]; now?: Date }) => Promise<SlotChange[]>;

export interface ExposureRequest extends Pick<ScopeIds, 'resourceId' | 'locationId'> {
  date: string;
  /** `user:<id>` for a signed-in caller, else the session id they sent. */
  subject: string | null;
  variant: ExposureVariant;
  /** The viewer's zone: `date` is their local date and slot times read in it (default: the scope's). */
  timeZone?: string | null;
  /** Only slots of resources with every one of these skills. */
  skills?: string[] | null;
}

export interface ExposureResult {
  date: string;
  timeZone: string;
  slots: Slot[];
  total: number;
  hasMore: boolean;
  k: number;
  variant: ExposureVariant;
}

const isEligible = (s: Slot) => (s.status === 'OPEN' || s.status === 'PARTIAL') && s.capacity > s.booked + s.held;

/** Seed 003's exposure around the pure algorithm: fresh counts, the sticky cache, the result. */
export class ExposureService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly sql: SqlQuery,
    private readonly deps: {
      cache: ExposureCache;
      slotEvents: SlotEvents;
      releaseExpiredHolds: ReleaseExpiredHolds;
      now?: () => Date;
      metrics?: ExposureMetrics;
    },
  ) {}

  async exposedSlots(request: ExposureRequest): Promise<ExposureResult> {
    const { kind, id } = oneScope(request, ['resource', 'location']);
    const subject = request.subject?.trim();
    if (!subject || subject.length > 200) {
      throw ValidationError.field(['sessionId'], 'sign in, or send a session id (1-200 characters) as sessionId or X-Session-Id');
    }
    const scope = await loadScope(this.sql, kind, id);
    const zone = request.timeZone ?? scope.timeZone;
    const now = this.deps.now?.() ?? new Date();
    checkDateWindow(request.date, request.date, zone, now, 'date');

    const where = request.skills ? { ...scope.where, resource: { skills: { hasEvery: request.skills } } } : scope.where;
    const fresh = (await this.freshSlots(where, request.date, zone, now)).filter(isEligible);
    // Booking policies (notice, horizon, buffers, daily limits) take slots out as the booking engine would.
    const eligible = (await bookableUnderPolicies(this.sql, fresh, now)).map((s) => (request.timeZone ? { ...s, timeZone: zone } : s));
    const base = { date: request.date, timeZone: zone, total: eligible.length, variant: request.variant };
    // Another zone's day or another skill set is another choice, remembered apart.
    const view = [request.timeZone ? `tz=${zone}` : '', request.skills ? `skills=${request.skills.slice().sort().join('+')}` : '']
      .filter(Boolean)
      .join('|');
    const key = exposureKey(subject, request.date, `${kind}:${id}${view ? `|${view}` : ''}`);

    const cached = await this.deps.cache.get(key);
    if (cached && cached.variant === request.variant) {
      const byId = new Map(eligible.map((s) => [s.id, s]));
      const still = cached.slotIds.flatMap((slotId) => byId.get(slotId) ?? []);
      // Sticky while any of it is still bookable; when all of it is gone, choose again.
      if (still.length || !eligible.length)
        return this.shown({ ...base, slots: byStart(still), hasMore: eligible.length > still.length, k: cached.k });
    }

    const seed = exposureSeed({
      subject,
      date: request.date,
      personId: kind === 'resource' ? id : null,
      contextWindow: `${kind}:${id}`,
      hourSalt: hourSalt(now),
    });
    // Day parts as the viewer reads them: a viewer's morning is the slots their clock shows before noon.
    const candidates = eligible.map((slot) => ({ id: slot.id, localHour: toLocal(slot.startAt, zone).hour, slot }));
    const { picked, k } = pickExposure(candidates, { seed, personScoped: kind === 'resource', variant: request.variant });
    await this.deps.cache.set(key, { slotIds: picked.map((p) => p.id), k, variant: request.variant });
    return this.shown({ ...base, slots: byStart(picked.map((p) => p.slot)), hasMore: eligible.length > picked.length, k });
  }

  private shown(result: ExposureResult): ExposureResult {
    this.deps.metrics?.recordExposure(result.slots.length);
    return result;
  }

  /** The date's future slots, after expired holds on them were freed (seed 003's guardrail). */
  private async freshSlots(where: object, date: string, timeZone: string, now: Date): Promise<Slot[]> {
    const dayStart = startOfLocalDate(date, timeZone);
    const query = {
      where: {
        ...where,
        startAt: { gte: dayStart.getTime() > now.getTime() ? dayStart : now, lt: startOfLocalDate(nextLocalDate(date), timeZone) },
        status: { in: ['OPEN' as const, 'PARTIAL' as const, 'FULL' as const] },
      },
    };
    const slots = await this.prisma.slot.findMany(query);
    const withHolds = slots.filter((s) => s.held > 0).map((s) => s.id);
    if (!withHolds.length) return slots;
    const changes = await this.deps.releaseExpiredHolds({ slotIds: withHolds, now });
    if (!changes.length) return slots;
    await this.deps.slotEvents.publish(changes);
    return this.prisma.slot.findMany(query);
  }
}

function byStart(slots: Slot[]): Slot[] {
  return slots.slice().sort((a, b) => a.startAt.getTime() - b.startAt.getTime() || (a.id < b.id ? -1 : 1));
}

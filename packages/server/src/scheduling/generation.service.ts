import { z } from 'zod';
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import type { SlotChange, SlotEvents } from '../events/slot-events.js';
import { NotFoundError, ValidationError, parseInput } from '../shared/errors.js';
import { addDays, fromDateColumn, localDateOf, nextLocalDate, startOfLocalDate, todayIn } from '../shared/time.js';
import { dateWindowIssue, isLocalDate, localDateSchema } from '../shared/validation.js';
import { planSlots, type PlanRule } from './rule-plan.js';
import { futureSlotRuns, lockScope, lockScopes, reconcileScope, retagFutureSlots, scopeLockKey, type SlotScope } from './slot-reconcile.js';
import { selectScopesWithRules } from './scheduling.store.js';

type Tx = Prisma.TransactionClient;

export interface GenerationReport {
  created: number;
  updated: number;
  unchanged: number;
  removed: number;
  /** Slots that would have changed but have bookings or holds. */
  kept: string[];
}

const generateInput = z
  .object({
    resourceId: z.string().nullish(),
    locationId: z.string().nullish(),
    from: localDateSchema,
    to: localDateSchema,
  })
  .superRefine((v, ctx) => {
    if (!v.resourceId && !v.locationId) ctx.addIssue({ code: 'custom', path: ['locationId'], message: 'give a locationId or a resourceId' });
    const window = isLocalDate(v.from) && isLocalDate(v.to) ? dateWindowIssue(v.from, v.to, 'generation') : null;
    if (window) ctx.addIssue({ code: 'custom', path: ['to'], message: window });
  });
export type GenerateInput = z.input<typeof generateInput>;

/** A scope with everything needed to plan it. */
interface Target extends SlotScope {
  exclusive: boolean;
  rules: PlanRule[];
}

const TX_OPTIONS = { maxWait: 10_000, timeout: 120_000 };
/** Scopes one horizon run reconciles at most; the pass goes on at the next run. */
export const HORIZON_SCOPES_PER_RUN = 50;
/** A new pass over every scope starts this long after the last one began. */
export const HORIZON_PASS_INTERVAL_MS = 60 * 60_000;

function toPlanRule(r: Prisma.AvailabilityRuleGetPayload<object>): PlanRule {
  return {
    ...r,
    validFrom: r.validFrom ? fromDateColumn(r.validFrom) : null,
    validTo: r.validTo ? fromDateColumn(r.validTo) : null,
  };
}

export function emptyReport(): GenerationReport {
  return { created: 0, updated: 0, unchanged: 0, removed: 0, kept: [] };
}

function addTo(report: GenerationReport, r: GenerationReport) {
  report.created += r.created;
  report.updated += r.updated;
  report.unchanged += r.unchanged;
  report.removed += r.removed;
  report.kept.push(...r.kept);
}

/** Turns availability rules into slot rows: on request, after rule changes, and on a rolling horizon. */
export class GenerationService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly options: { maxSlots: number; horizonDays: number },
    private readonly slotEvents: SlotEvents,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** generateSlots: local dates [from, to] in the location's zone; the past is skipped. */
  async generate(input: GenerateInput): Promise<GenerationReport> {
    const v = parseInput(generateInput, input);
    const locationId = v.resourceId ? await this.locationOf(v.resourceId) : v.locationId!;
    if (v.locationId && v.locationId !== locationId) throw ValidationError.field(['input', 'resourceId'], 'the resource is not at that location');
    const location = await this.prisma.location.findUnique({ where: { id: locationId }, select: { timeZone: true } });
    if (!location) throw new NotFoundError('Location', locationId);
    const now = this.now();
    const today = todayIn(location.timeZone, now);
    if (v.to < today) throw ValidationError.field(['input', 'to'], `is in the past (today is ${today} in ${location.timeZone})`);
    // biome-ignore lint/complexity/useMathMinMax: local dates are YYYY-MM-DD strings, not numbers.
    const from = v.from < today ? today : v.from;

    const { report, changes } = await this.prisma.$transaction(async (tx) => {
      // Lock, then read the rules again: a rule change that held the lock has committed by now.
      await lockScopes(tx, (await this.targets(tx, locationId, v.resourceId ?? null)).map(scopeLockKey));
      const targets = await this.targets(tx, locationId, v.resourceId ?? null);
      const plans = targets.map((t) => ({ t, plan: this.plan(t, from, v.to, now) }));
      const total = plans.reduce((n, p) => n + p.plan.length, 0);
      if (total > this.options.maxSlots) {
        throw ValidationError.field(
          ['input', 'to'],
          `would produce ${total} slots, more than the maximum of ${this.options.maxSlots}; choose a shorter window`,
        );
      }
      return this.apply(tx, plans, from, v.to, now);
    }, TX_OPTIONS);
    await this.slotEvents.publish(changes);
    return report;
  }

  /**
   * Runs a rule write and re-plans the dates already materialized for the affected scopes (each run
   * of consecutive local dates with future slots) in the same transaction; events go out after
   * commit. Dates never generated, gaps between runs too, are left to generateSlots and the horizon job.
   */
  async afterRuleChange<T>(
    scope: { locationId: string; resourceId: string | null },
    write: (tx: Tx) => Promise<T>,
  ): Promise<{ rule: T; slots: GenerationReport }> {
    const now = this.now();
    const { rule, report, changes } = await this.prisma.$transaction(async (tx) => {
      // The rule's own scope lock also serializes the overlap check of concurrent rule writes.
      // A location-wide rule touches the location's resources too: lock them all, in order, first.
      const affected = await this.targets(tx, scope.locationId, scope.resourceId);
      await lockScopes(tx, [scopeLockKey(scope), ...affected.map(scopeLockKey)]);
      const rule = await write(tx);
      let targets = await this.targets(tx, scope.locationId, scope.resourceId);
      if (!scope.resourceId) targets = targets.filter((t) => !t.resourceId || t.rules.some((r) => !r.isClosed));
      const report = emptyReport();
      const changes: SlotChange[] = [];
      for (const t of targets) {
        for (const span of await futureSlotRuns(tx, t, now)) {
          const from = localDateOf(span.first, t.timeZone);
          const to = localDateOf(span.last, t.timeZone);
          const r = await this.apply(tx, [{ t, plan: this.plan(t, from, to, now) }], from, to, now);
          addTo(report, r.report);
          changes.push(...r.changes);
        }
      }
      return { rule, report, changes };
    }, TX_OPTIONS);
    await this.slotEvents.publish(changes);
    return { rule, slots: report };
  }

  /**
   * Runs a location write that moves the location to another zone, and re-plans in the same
   * transaction, in the new zone, the local dates already materialized for each of its scopes (its
   * runs of consecutive local dates with future slots, in the old zone): free slots move to the new wall-clock
   * instants; slots with bookings or holds are kept and reported, as after a rule change. Every
   * future slot of the location (its forms' aside) then reads in the new zone. Events go out after commit.
   */
  async afterZoneChange<T>(locationId: string, write: (tx: Tx) => Promise<T>): Promise<{ location: T; slots: GenerationReport }> {
    const now = this.now();
    const { location, report, changes } = await this.prisma.$transaction(async (tx) => {
      await lockScopes(tx, (await this.targets(tx, locationId, null)).map(scopeLockKey));
      const before = await this.targets(tx, locationId, null);
      const runs = new Map<string, { first: Date; last: Date }[]>();
      for (const t of before) runs.set(scopeLockKey(t), await futureSlotRuns(tx, t, now));
      const location = await write(tx);
      const oldZone = before[0]!.timeZone;
      const targets = (await this.targets(tx, locationId, null)).filter((t) => !t.resourceId || t.rules.some((r) => !r.isClosed));
      const report = emptyReport();
      const changes: SlotChange[] = [];
      for (const t of targets) {
        if (t.timeZone === oldZone) continue;
        for (const span of runs.get(scopeLockKey(t)) ?? []) {
          const from = localDateOf(span.first, oldZone);
          const to = localDateOf(span.last, oldZone);
          // The window covers the old slots (old zone's dates) and the new ones (the same dates in the new zone).
          const start = new Date(
            Math.max(now.getTime(), Math.min(startOfLocalDate(from, oldZone).getTime(), startOfLocalDate(from, t.timeZone).getTime())),
          );
          const end = new Date(
            Math.max(startOfLocalDate(nextLocalDate(to), oldZone).getTime(), startOfLocalDate(nextLocalDate(to), t.timeZone).getTime()),
          );
          const r = await reconcileScope(tx, t, this.plan(t, from, to, now), start, end);
          addTo(report, r);
          changes.push(...r.changes);
        }
      }
      changes.push(...(await retagFutureSlots(tx, locationId, targets[0]!.timeZone, now)));
      return { location, report, changes };
    }, TX_OPTIONS);
    await this.slotEvents.publish(changes);
    return { location, slots: report };
  }

  /**
   * The rolling horizon: slots from today to SLOT_HORIZON_DAYS ahead for every active resource
   * with rules and every location with location-wide rules. One transaction per scope; a scope
   * another instance is working on (advisory lock taken) is skipped, not waited for. Bounded: at
   * most `maxScopes` scopes, in key order after `after`; `next` is where the following call goes on
   * (null: the pass is complete).
   */
  async fillHorizon(
    options: { after?: string | null; maxScopes?: number } = {},
  ): Promise<GenerationReport & { skipped: number; next: string | null }> {
    const maxScopes = options.maxScopes ?? HORIZON_SCOPES_PER_RUN;
    const scopes = await selectScopesWithRules(this.prisma, options.after ?? null, maxScopes + 1);
    const total = { ...emptyReport(), skipped: 0, next: scopes.length > maxScopes ? scopes[maxScopes - 1]!.key : null };
    for (const scope of scopes.slice(0, maxScopes)) {
      const now = this.now();
      const result = await this.prisma.$transaction(async (tx) => {
        if (!(await lockScope(tx, scopeLockKey({ locationId: scope.location_id, resourceId: scope.resource_id }), false))) return null;
        const [t] = (await this.targets(tx, scope.location_id, scope.resource_id)).filter((x) => x.resourceId === scope.resource_id);
        if (!t) return null;
        const from = todayIn(t.timeZone, now);
        const to = addDays(from, this.options.horizonDays);
        return this.apply(tx, [{ t, plan: this.plan(t, from, to, now) }], from, to, now);
      }, TX_OPTIONS);
      if (!result) {
        total.skipped++;
        continue;
      }
      addTo(total, result.report);
      await this.slotEvents.publish(result.changes);
    }
    return total;
  }

  /**
   * The slot-horizon job's run (every minute): one bounded step of a pass over every scope, and a
   * new pass an hour after the last one began, so a run's work does not grow with the number of scopes.
   */
  async horizonStep(nowMs = Date.now()): Promise<(GenerationReport & { skipped: number; next: string | null }) | null> {
    if (this.horizonPass.next === null && nowMs - this.horizonPass.startedAt < HORIZON_PASS_INTERVAL_MS) return null;
    if (this.horizonPass.next === null) this.horizonPass.startedAt = nowMs;
    const run = await this.fillHorizon({ after: this.horizonPass.next });
    this.horizonPass.next = run.next;
    return run;
  }

  private readonly horizonPass: { next: string | null; startedAt: number } = { next: null, startedAt: -Infinity };

  private plan(t: Target, from: string, to: string, now: Date) {
    return planSlots({
      timeZone: t.timeZone,
      fromDate: from,
      toDate: to,
      rules: t.rules,
      notBefore: now,
      capacityOverride: t.exclusive ? 1 : undefined,
    });
  }

  private async apply(tx: Tx, plans: { t: Target; plan: ReturnType<GenerationService['plan']> }[], from: string, to: string, now: Date) {
    const report = emptyReport();
    const changes: SlotChange[] = [];
    for (const { t, plan } of plans) {
      const start = startOfLocalDate(from, t.timeZone);
      const r = await reconcileScope(tx, t, plan, start > now ? start : now, startOfLocalDate(nextLocalDate(to), t.timeZone));
      addTo(report, r);
      changes.push(...r.changes);
    }
    return { report, changes };
  }

  private async locationOf(resourceId: string): Promise<string> {
    const resource = await this.prisma.resource.findUnique({ where: { id: resourceId }, select: { locationId: true } });
    if (!resource) throw new NotFoundError('Resource', resourceId);
    return resource.locationId;
  }

  /**
   * The scopes of a request: one resource, or a location's own slots plus each of its active
   * resources that has rules. Location-wide closures apply to the resources as well.
   */
  private async targets(tx: Tx, locationId: string, resourceId: string | null): Promise<Target[]> {
    const location = await tx.location.findUniqueOrThrow({ where: { id: locationId }, select: { timeZone: true } });
    const rules = (await tx.availabilityRule.findMany({ where: { locationId }, orderBy: { id: 'asc' } })).map((r) => ({
      ...toPlanRule(r),
      resourceId: r.resourceId,
    }));
    const locationClosures = rules.filter((r) => !r.resourceId && r.isClosed);
    const resources = await tx.resource.findMany({
      where: resourceId ? { id: resourceId } : { locationId, active: true, rules: { some: {} } },
      select: { id: true, exclusive: true },
      orderBy: { id: 'asc' },
    });
    const targets: Target[] = resources.map((res) => ({
      locationId,
      resourceId: res.id,
      timeZone: location.timeZone,
      exclusive: res.exclusive,
      rules: [...rules.filter((r) => r.resourceId === res.id), ...locationClosures],
    }));
    if (!resourceId)
      targets.unshift({ locationId, resourceId: null, timeZone: location.timeZone, exclusive: false, rules: rules.filter((r) => !r.resourceId) });
    return targets;
  }
}

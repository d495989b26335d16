import { z } from 'zod';
import type { PrismaClient, Prisma } from '../generated/prisma/client.js';
import { deleteRule, insertRule, updateRule } from './scheduling.store.js';
import { AppError, NotFoundError, ValidationError, parseInput } from '../shared/errors.js';
import { formatWallTime, fromDateColumn, parseWallTime, toDateColumn } from '../shared/time.js';
import { localDateSchema, wallTimeSchema, windowEndTimeSchema } from '../shared/validation.js';
import type { GenerationService, GenerationReport } from './generation.service.js';

/** Another rule of the same kind and scope already covers some of these days, hours and dates. */
export class RuleOverlapError extends AppError {
  readonly code = 'RULE_OVERLAP';
  constructor(readonly overlappingRuleId: string) {
    super(`overlaps availability rule ${overlappingRuleId} (same kind, days, hours and validity)`);
  }
}

const minutes = z.number().int('must be a whole number').min(5, 'must be at least 5').max(480, 'must be at most 480');

const ruleFields = z
  .object({
    kind: z.enum(['WEEKLY', 'DATE_RANGE', 'EXCEPTION']),
    daysOfWeek: z.array(z.number().int().min(1, 'days are 1 (Monday) to 7 (Sunday)').max(7, 'days are 1 (Monday) to 7 (Sunday)')),
    startTime: wallTimeSchema,
    endTime: windowEndTimeSchema,
    slotDurationMinutes: minutes,
    granularityMinutes: minutes,
    capacity: z.number().int('must be a whole number').min(1, 'must be at least 1').max(10_000),
    validFrom: localDateSchema.nullable(),
    validTo: localDateSchema.nullable(),
    isClosed: z.boolean(),
  })
  .superRefine((r, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    // zod runs this even when a field above failed: only compare what parsed.
    const start = wallTimeSchema.safeParse(r.startTime).success ? parseWallTime(r.startTime) : NaN;
    const end = windowEndTimeSchema.safeParse(r.endTime).success ? parseWallTime(r.endTime) : NaN;
    if (end <= start) issue('endTime', 'must be after startTime');
    if (r.slotDurationMinutes % r.granularityMinutes !== 0) issue('slotDurationMinutes', 'must be a multiple of granularityMinutes');
    if (!r.isClosed && end - start < r.slotDurationMinutes) {
      issue('slotDurationMinutes', 'must fit between startTime and endTime');
    }
    if (r.kind === 'WEEKLY' && r.daysOfWeek.length === 0) issue('daysOfWeek', 'a weekly rule needs at least one day');
    if (r.kind !== 'WEEKLY' && (!r.validFrom || !r.validTo)) issue(r.validFrom ? 'validTo' : 'validFrom', `is required for ${r.kind} rules`);
    if (r.validFrom && r.validTo && r.validTo < r.validFrom) issue('validTo', 'must not be before validFrom');
  });

export type RuleFields = z.infer<typeof ruleFields>;
export type UpdateRuleInput = { [K in keyof Omit<RuleFields, 'kind'>]?: RuleFields[K] | null };
export type CreateRuleInput = UpdateRuleInput & {
  locationId?: string | null;
  resourceId?: string | null;
  kind: RuleFields['kind'];
  startTime: string;
  endTime: string;
};

export type RuleRow = Prisma.AvailabilityRuleGetPayload<object>;

/** A rule as the API shows it: wall times as 'HH:MM', dates as 'YYYY-MM-DD'. */
export function ruleView(rule: RuleRow): RuleFields {
  return {
    kind: rule.kind,
    daysOfWeek: rule.daysOfWeek,
    startTime: formatWallTime(rule.startMinute),
    endTime: formatWallTime(rule.endMinute),
    slotDurationMinutes: rule.slotDurationMinutes,
    granularityMinutes: rule.granularityMinutes,
    capacity: rule.capacity,
    validFrom: rule.validFrom ? fromDateColumn(rule.validFrom) : null,
    validTo: rule.validTo ? fromDateColumn(rule.validTo) : null,
    isClosed: rule.isClosed,
  };
}

function toData(f: RuleFields) {
  return {
    kind: f.kind,
    daysOfWeek: [...new Set(f.daysOfWeek)].sort(),
    startMinute: parseWallTime(f.startTime),
    endMinute: parseWallTime(f.endTime),
    slotDurationMinutes: f.slotDurationMinutes,
    granularityMinutes: f.granularityMinutes,
    capacity: f.capacity,
    validFrom: f.validFrom ? toDateColumn(f.validFrom) : null,
    validTo: f.validTo ? toDateColumn(f.validTo) : null,
    isClosed: f.isClosed,
  };
}

type Tx = Prisma.TransactionClient;

export class RulesService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly generation: GenerationService,
  ) {}

  async list(filter: { locationId?: string; resourceId?: string }) {
    // As creating a rule refuses it: a resource asked for at another location is a mistake, not "no rules".
    if (filter.locationId && filter.resourceId) {
      const resource = await this.prisma.resource.findUnique({ where: { id: filter.resourceId }, select: { locationId: true } });
      if (resource && resource.locationId !== filter.locationId) throw ValidationError.field(['resourceId'], 'the resource is not at that location');
    }
    return this.prisma.availabilityRule.findMany({
      where: { locationId: filter.locationId, resourceId: filter.resourceId },
      orderBy: [{ kind: 'asc' }, { startMinute: 'asc' }, { id: 'asc' }],
    });
  }

  /** Creates a rule and re-plans the slots already materialized for its scope, in one transaction. */
  async create(input: CreateRuleInput): Promise<{ rule: RuleRow; slots: GenerationReport }> {
    const fields = parseInput(ruleFields, {
      daysOfWeek: [],
      slotDurationMinutes: 30,
      granularityMinutes: 15,
      capacity: 1,
      validFrom: null,
      validTo: null,
      isClosed: false,
      ...withoutNulls(input),
    });
    const scope = await this.scopeOf(input.locationId ?? null, input.resourceId ?? null);
    return this.generation.afterRuleChange(scope, async (tx) => {
      await this.assertNoOverlap(tx, scope, fields, null);
      return insertRule(tx, { ...toData(fields), locationId: scope.locationId, resourceId: scope.resourceId });
    });
  }

  async update(id: string, input: UpdateRuleInput): Promise<{ rule: RuleRow; slots: GenerationReport }> {
    const existing = await this.prisma.availabilityRule.findUnique({ where: { id } });
    if (!existing) throw new NotFoundError('AvailabilityRule', id);
    // Absent fields keep their value; null clears the nullable ones (validFrom, validTo).
    const changes = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
    const fields = parseInput(ruleFields, { ...ruleView(existing), ...changes });
    const scope = { locationId: existing.locationId, resourceId: existing.resourceId };
    return this.generation.afterRuleChange(scope, async (tx) => {
      await this.assertNoOverlap(tx, scope, fields, id);
      return updateRule(tx, id, toData(fields));
    });
  }

  async delete(id: string): Promise<{ rule: RuleRow; slots: GenerationReport }> {
    const existing = await this.prisma.availabilityRule.findUnique({ where: { id } });
    if (!existing) throw new NotFoundError('AvailabilityRule', id);
    const scope = { locationId: existing.locationId, resourceId: existing.resourceId };
    return this.generation.afterRuleChange(scope, (tx) => deleteRule(tx, id));
  }

  private async scopeOf(locationId: string | null, resourceId: string | null) {
    if (resourceId) {
      const resource = await this.prisma.resource.findUnique({ where: { id: resourceId }, select: { locationId: true } });
      if (!resource) throw new NotFoundError('Resource', resourceId);
      if (locationId && resource.locationId !== locationId) {
        throw ValidationError.field(['input', 'resourceId'], 'the resource is not at that location');
      }
      return { locationId: resource.locationId, resourceId };
    }
    if (!locationId) throw ValidationError.field(['input', 'locationId'], 'give a locationId or a resourceId');
    const location = await this.prisma.location.findUnique({ where: { id: locationId }, select: { id: true } });
    if (!location) throw new NotFoundError('Location', locationId);
    return { locationId, resourceId: null };
  }

  /**
   * Same kind, same scope (resource, or location-wide), same open/closed sense, a shared day,
   * overlapping hours and overlapping validity. Closures may overlap open rules: that is their job.
   * Runs after the scope's advisory lock, so two concurrent creates cannot both pass.
   */
  private async assertNoOverlap(tx: Tx, scope: { locationId: string; resourceId: string | null }, f: RuleFields, selfId: string | null) {
    const data = toData(f);
    const clash = await tx.availabilityRule.findFirst({
      select: { id: true },
      where: {
        locationId: scope.locationId,
        resourceId: scope.resourceId,
        kind: f.kind,
        isClosed: f.isClosed,
        ...(selfId ? { id: { not: selfId } } : {}),
        startMinute: { lt: data.endMinute },
        endMinute: { gt: data.startMinute },
        AND: [
          data.daysOfWeek.length ? { OR: [{ daysOfWeek: { isEmpty: true } }, { daysOfWeek: { hasSome: data.daysOfWeek } }] } : {},
          data.validTo ? { OR: [{ validFrom: null }, { validFrom: { lte: data.validTo } }] } : {},
          data.validFrom ? { OR: [{ validTo: null }, { validTo: { gte: data.validFrom } }] } : {},
        ],
      },
      orderBy: { id: 'asc' },
    });
    if (clash) throw new RuleOverlapError(clash.id);
  }
}

function withoutNulls<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined)) as Partial<T>;
}

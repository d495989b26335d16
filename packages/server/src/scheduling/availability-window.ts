import type { SqlQuery } from '../db/database.js';
import { NotFoundError, ValidationError } from '../shared/errors.js';
import { todayIn } from '../shared/time.js';
import { dateWindowIssue, instantWindowIssue, type WindowUse } from '../shared/validation.js';
import { selectScope, type ScopeRow } from './scheduling.store.js';

/** `to` after `from`, at most the use's cap long, and not wholly in the past. */
export function checkWindow(from: Date, to: Date, now: Date, use: WindowUse = 'availability'): void {
  const message = instantWindowIssue(from, to, use) ?? (to.getTime() <= now.getTime() ? 'the window is entirely in the past' : null);
  if (message) throw ValidationError.field(['to'], message);
}

/** The same rules for local dates (both inclusive), judged in the scope's zone; errors name `field`. */
export function checkDateWindow(from: string, to: string, timeZone: string, now: Date, field = 'to'): void {
  const message = dateWindowIssue(from, to, 'availability') ?? (to < todayIn(timeZone, now) ? 'the window is entirely in the past' : null);
  if (message) throw ValidationError.field([field], message);
}

export type ScopeKind = 'resource' | 'location' | 'form';

/** What an availability read is about, with the zone its local dates are counted in. */
export interface Scope {
  kind: ScopeKind;
  id: string;
  timeZone: string;
  /** Some of its slots may fall under a booking policy (else none needs judging). */
  hasPolicies: boolean;
  /** Prisma filter for the scope's slots. */
  where: { resourceId: string; formId: null } | { locationId: string; formId: null } | { formId: string };
}

export interface ScopeIds {
  resourceId?: string | null;
  locationId?: string | null;
  formId?: string | null;
}

/** Exactly one of the scope ids must be given. */
export function oneScope(ids: ScopeIds, allowed: ScopeKind[]): { kind: ScopeKind; id: string } {
  const given = allowed.filter((kind) => ids[`${kind}Id`] != null);
  if (given.length !== 1) {
    const message = `give exactly one of ${allowed.map((k) => `${k}Id`).join(', ')}`;
    throw new ValidationError((given.length ? given : allowed).map((k) => ({ path: [`${k}Id`], message })));
  }
  const kind = given[0]!;
  return { kind, id: ids[`${kind}Id`]! };
}

const SCOPE_TYPE = { resource: 'Resource', location: 'Location', form: 'Form' } as const;

/**
 * The scope's zone and its slot filter (one small query); NotFoundError when it does not exist. A
 * draft or closed form is staff-only: NotFoundError for anyone else. A form's slots show in its own
 * scope only (they are booked with `register`), never in the availability of the location or
 * resource they sit on.
 */
export async function loadScope(sql: SqlQuery, kind: ScopeKind, id: string, viewer: { staff?: boolean } = {}): Promise<Scope> {
  return checkScope(await selectScope(sql, kind, id), kind, id, viewer);
}

/** loadScope's checks on a scope row read along with other rows (scheduling.store.ts selectScope*). */
export function checkScope(row: ScopeRow | undefined, kind: ScopeKind, id: string, viewer: { staff?: boolean } = {}): Scope {
  if (!row || (kind === 'form' && row.status !== 'PUBLISHED' && !viewer.staff)) throw new NotFoundError(SCOPE_TYPE[kind], id);
  const where = kind === 'resource' ? { resourceId: id, formId: null } : kind === 'location' ? { locationId: id, formId: null } : { formId: id };
  return { kind, id, timeZone: row.time_zone, hasPolicies: row.has_policies, where };
}

/** The window of a live `slotAvailability` subscription that names no `to` (the cost rule charges for it too). */
export const DEFAULT_WINDOW_DAYS = 14;

import type { SqlQuery } from '../db/database.js';
import { NotFoundError, ValidationError } from '../shared/errors.js';
import { todayIn } from '../shared/time.js';
import { dateWindowIssue, instantWindowIssue, type WindowUse } from '../shared/validation.js';
import { POLICY_COLUMNS, POLICY_FIELDS } from '../policies/policy.js';

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
  /** Some of its slots may fall under a booking policy (else no slot needs judging). */
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

/** Any booking policy column set on the row (`alias`: resources or locations). */
const policySet = (alias: string) => `(${POLICY_FIELDS.map((f) => `${alias}.${POLICY_COLUMNS[f]} IS NOT NULL`).join(' OR ')})`;

// The zone, and whether any of the scope's slots can fall under a booking policy (a location's
// resources included; form slots sit on resources of their own, so always judged), in one statement.
const SCOPE_ZONE: Record<ScopeKind, string> = {
  resource: `SELECT l.time_zone, NULL::text AS status, ${policySet('r')} OR ${policySet('l')} AS has_policies
    FROM resources r JOIN locations l ON l.id = r.location_id WHERE r.id = $1::uuid`,
  location: `SELECT l.time_zone, NULL::text AS status,
      ${policySet('l')} OR EXISTS (SELECT 1 FROM resources r WHERE r.location_id = l.id AND ${policySet('r')}) AS has_policies
    FROM locations l WHERE l.id = $1::uuid`,
  form: 'SELECT time_zone, status::text AS status, true AS has_policies FROM forms WHERE id = $1::uuid',
};
const SCOPE_TYPE = { resource: 'Resource', location: 'Location', form: 'Form' } as const;

/** The scope with its zone (one small query on every availability read); NotFoundError when it does not exist. */
/**
 * The scope's zone and its slot filter. A draft or closed form is staff-only: NotFoundError for
 * anyone else. A form's slots show in its own scope only (they are booked with `register`), never
 * in the availability of the location or resource they sit on.
 */
export async function loadScope(sql: SqlQuery, kind: ScopeKind, id: string, viewer: { staff?: boolean } = {}): Promise<Scope> {
  const [row] = await sql.query<ScopeRow>(SCOPE_ZONE[kind], [id]);
  return scopeOf(row, kind, id, viewer);
}

interface ScopeRow {
  time_zone: string;
  status: string | null;
  has_policies: boolean;
}

function scopeOf(row: ScopeRow | undefined, kind: ScopeKind, id: string, viewer: { staff?: boolean }): Scope {
  if (!row || (kind === 'form' && row.status !== 'PUBLISHED' && !viewer.staff)) throw new NotFoundError(SCOPE_TYPE[kind], id);
  const where = kind === 'resource' ? { resourceId: id, formId: null } : kind === 'location' ? { locationId: id, formId: null } : { formId: id };
  return { kind, id, timeZone: row.time_zone, hasPolicies: row.has_policies, where };
}

/**
 * loadScope and a read of the scope's rows in ONE statement (one round trip on the hottest reads):
 * `rows` is a query on $1 (the scope id) and `params` from $2, whose first column is a non-null `id`.
 * The scope is checked as loadScope checks it (NotFoundError).
 */
export async function loadScopeWith<T extends { id: string }>(
  sql: SqlQuery,
  kind: ScopeKind,
  id: string,
  viewer: { staff?: boolean },
  rows: string,
  params: unknown[],
): Promise<{ scope: Scope; rows: T[] }> {
  const result = await sql.query<T & { scope_time_zone: string; scope_status: string | null; scope_has_policies: boolean }>(
    `WITH scope AS (${SCOPE_ZONE[kind]})
     SELECT scope.time_zone AS scope_time_zone, scope.status AS scope_status, scope.has_policies AS scope_has_policies, r.*
       FROM scope LEFT JOIN LATERAL (${rows}) r ON true`,
    [id, ...params],
  );
  const first = result[0];
  const scope = scopeOf(first && { time_zone: first.scope_time_zone, status: first.scope_status, has_policies: first.scope_has_policies }, kind, id, viewer);
  // A scope without rows comes back as one row of nulls.
  if (first?.id === null) return { scope, rows: [] };
  return { scope, rows: result.map(({ scope_time_zone: _zone, scope_status: _status, scope_has_policies: _policies, ...row }) => row as unknown as T) };
}

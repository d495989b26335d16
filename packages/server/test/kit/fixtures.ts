import { randomUUID } from 'node:crypto';
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import type { SqlQuery } from '../../src/db/database.js';
import { createTestApp, type TestApp } from './app.js';
import type { BookingStatus, ResourceKind, SlotStatus } from '../../src/generated/prisma/enums.js';

/**
 * The one fixture API: rows the tests start from, written straight to the database in plain SQL
 * (set-up, not behaviour; what a test exercises goes through the API).
 */

/** A Relay global id, as the API takes and answers it. */
export const gid = (type: string, id: string) => encodeGlobalID(type, id);

const DAY_MS = 86_400_000;
/** 00:00 UTC `n` days from today: times a few days ahead are in the future whenever the test runs. */
export const utcDay = (n: number) => new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS + n * DAY_MS);
/** The instant `hours` after `base`, as ISO (what the API takes). */
export const hoursAfter = (base: Date, hours: number) => new Date(base.getTime() + hours * 3_600_000).toISOString();

/** The database id inside a global id. */
export const uuidOf = (globalId: string) => decodeGlobalID(globalId).id;

/** A customer per `n`, each with their own email and phone (one live booking per slot per customer). */
export const customer = (n: number | string = 1) => ({
  name: `Customer ${n}`,
  email: `c${n}@Example.com`,
  phone: `+1 555 ${phoneDigits(String(n))}`,
});

/** Seven digits from FNV-1a: different names get different phones (no collision among the names tests use). */
function phoneDigits(s: string): string {
  let h = 0x811c9dc5;
  for (const c of s) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return String(h % 10_000_000).padStart(7, '0');
}

export interface SlotOptions {
  /** Default: a random minute within the next few weeks, from tomorrow on. */
  startAt?: Date | string;
  minutes?: number;
  capacity?: number;
  booked?: number;
  held?: number;
  status?: SlotStatus;
  /** The slot's zone (default UTC). */
  timeZone?: string;
  formId?: string | null;
}

/** One slot of a batch: `start` is an instant (ISO). */
export interface SlotSpec extends Omit<SlotOptions, 'startAt' | 'timeZone' | 'formId'> {
  start: string;
}

export type Fixtures = ReturnType<typeof fixtures>;

export function fixtures(sql: SqlQuery) {
  const one = async <T>(text: string, params: unknown[]) => (await sql.query<T>(text, params))[0]!;
  const slot = async (locationId: string, resourceId: string | null, options: SlotOptions = {}): Promise<string> => {
    const startAt = options.startAt ? new Date(options.startAt) : new Date(Date.now() + 86_400_000 + Math.floor(Math.random() * 1e6) * 60_000);
    const endAt = new Date(startAt.getTime() + (options.minutes ?? 30) * 60_000);
    return (
      await one<{ id: string }>(
        `INSERT INTO slots (location_id, resource_id, form_id, time_zone, start_at, end_at, capacity, booked, held, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
        [
          locationId,
          resourceId,
          options.formId ?? null,
          options.timeZone ?? 'UTC',
          startAt,
          endAt,
          options.capacity ?? 1,
          options.booked ?? 0,
          options.held ?? 0,
          options.status ?? 'OPEN',
        ],
      )
    ).id;
  };
  return {
    async location(timeZone = 'UTC', options: { name?: string; address?: string } = {}): Promise<string> {
      return (
        await one<{ id: string }>(`INSERT INTO locations (name, time_zone, address) VALUES ($1, $2, $3) RETURNING id`, [
          options.name ?? 'Clinic',
          timeZone,
          options.address ?? null,
        ])
      ).id;
    },
    async resource(
      locationId: string,
      options: { exclusive?: boolean; kind?: ResourceKind; name?: string; email?: string | null } = {},
    ): Promise<string> {
      return (
        await one<{ id: string }>(`INSERT INTO resources (location_id, kind, name, exclusive, email) VALUES ($1, $2, $3, $4, $5) RETURNING id`, [
          locationId,
          options.kind ?? (options.exclusive ? 'ROOM' : 'PERSON'),
          options.name ?? 'R',
          options.exclusive ?? false,
          options.email ?? null,
        ])
      ).id;
    },
    slot,
    /** Slots of a resource (or location-wide when resourceId is null) in one statement, ordered by start. */
    async slots(
      owner: { locationId: string; resourceId: string | null; timeZone?: string; formId?: string },
      specs: SlotSpec[],
    ): Promise<{ id: string; startAt: Date }[]> {
      const rows = specs.map((spec) => ({
        start_at: new Date(spec.start).toISOString(),
        minutes: spec.minutes ?? 30,
        capacity: spec.capacity ?? 1,
        booked: spec.booked ?? 0,
        held: spec.held ?? 0,
        status: spec.status ?? 'OPEN',
      }));
      const inserted = await sql.query<{ id: string; start_at: Date }>(
        `INSERT INTO slots (location_id, resource_id, form_id, time_zone, start_at, end_at, capacity, booked, held, status)
         SELECT $1, $2, $3, $4, s.start_at, s.start_at + make_interval(mins => s.minutes), s.capacity, s.booked, s.held, s.status::slot_status
         FROM jsonb_to_recordset($5::jsonb) AS s(start_at timestamptz, minutes int, capacity int, booked int, held int, status text)
         RETURNING id, start_at`,
        [owner.locationId, owner.resourceId, owner.formId ?? null, owner.timeZone ?? 'UTC', JSON.stringify(rows)],
      );
      return inserted.map((r) => ({ id: r.id, startAt: new Date(r.start_at) })).sort((a, b) => a.startAt.getTime() - b.startAt.getTime());
    },
    /** A booking row as the booking engine would leave it (customer fields are placeholders); slot counters untouched. */
    async booking(data: {
      slotId?: string;
      resourceId?: string;
      exclusive?: boolean;
      startAt: string;
      endAt: string;
      status: BookingStatus;
      holdExpiresAt?: string;
    }): Promise<string> {
      return (
        await one<{ id: string }>(
          `INSERT INTO bookings (kind, slot_id, resource_id, exclusive, start_at, end_at, status, hold_expires_at,
                                 customer_name, customer_email, customer_email_hash, ics_uid)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'Test Customer', 'encrypted-placeholder', $9, $10) RETURNING id`,
          [
            data.slotId ? 'SLOT' : 'RANGE',
            data.slotId ?? null,
            data.resourceId ?? null,
            data.exclusive ?? !data.slotId,
            new Date(data.startAt),
            new Date(data.endAt),
            data.status,
            data.holdExpiresAt ? new Date(data.holdExpiresAt) : null,
            randomUUID(),
            `${randomUUID()}@test`,
          ],
        )
      ).id;
    },
    async slotCounts(slotId: string) {
      return one<{ booked: number; held: number; status: string; version: number }>(`SELECT booked, held, status, version FROM slots WHERE id = $1`, [
        slotId,
      ]);
    },
    /** Bookings of a slot by status, counted from the bookings table. */
    async bookingCounts(slotId: string): Promise<Record<string, number>> {
      const rows = await sql.query<{ status: string; n: number }>(
        `SELECT status, count(*)::int AS n FROM bookings WHERE slot_id = $1 GROUP BY status`,
        [slotId],
      );
      return Object.fromEntries(rows.map((r) => [r.status, r.n]));
    },
    async count(table: 'bookings' | 'audit_events' | 'slots'): Promise<number> {
      return (await one<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`, [])).n;
    },
  };
}

export const HOST = { name: 'Dr. Ada Moreno', email: 'ada.host@clinic.example' };
export const GUEST = { name: 'Grace Hopper', email: 'grace.guest@mail.example' };

/** A New York clinic with a host (a PERSON with an email) and an exclusive room. */
export async function clinic(t: TestApp) {
  const f = fixtures(t.app.db.sql);
  const zone = 'America/New_York';
  const locationId = await f.location(zone, { name: 'Riverside Clinic', address: '1 River St' });
  const hostId = await f.resource(locationId, { kind: 'PERSON', name: HOST.name, email: HOST.email });
  const roomId = await f.resource(locationId, { kind: 'ROOM', name: 'Studio Room', exclusive: true });
  return {
    locationId,
    hostId,
    roomId,
    /** A slot of the host (capacity 1 unless given). */
    slot: (startAt: string, minutes = 30, capacity = 1) => f.slot(locationId, hostId, { startAt, minutes, capacity, timeZone: zone }),
  };
}

/** Where most booking tests start: an app, its fixtures, and a location (UTC) with one person. */
export async function appWithResource(options: Parameters<typeof createTestApp>[0] = {}) {
  const t = await createTestApp(options);
  const f = fixtures(t.app.db.sql);
  const locationId = await f.location();
  const resourceId = await f.resource(locationId);
  return { t, f, locationId, resourceId };
}

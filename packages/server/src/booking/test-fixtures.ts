import type { SqlRunner } from '../db/database.js';

/** Rows the booking tests start from, written straight to the database (set-up, not behaviour). */
export function bookingFixtures(sql: SqlRunner) {
  const one = async <T>(text: string, params: unknown[]) => (await sql.query<T>(text, params))[0]!;
  return {
    async location(timeZone = 'UTC'): Promise<string> {
      return (await one<{ id: string }>(`INSERT INTO locations (name, time_zone) VALUES ('Clinic', $1) RETURNING id`, [timeZone])).id;
    },
    async resource(locationId: string, options: { exclusive?: boolean; kind?: 'PERSON' | 'ROOM' } = {}): Promise<string> {
      return (
        await one<{ id: string }>(`INSERT INTO resources (location_id, kind, name, exclusive) VALUES ($1, $2, 'R', $3) RETURNING id`, [
          locationId,
          options.kind ?? (options.exclusive ? 'ROOM' : 'PERSON'),
          options.exclusive ?? false,
        ])
      ).id;
    },
    async slot(
      locationId: string,
      resourceId: string | null,
      options: { startAt?: Date; minutes?: number; capacity?: number; status?: 'OPEN' | 'BLOCKED' | 'CANCELLED' } = {},
    ): Promise<string> {
      const startAt = options.startAt ?? new Date(Date.now() + 86_400_000 + Math.floor(Math.random() * 1e6) * 60_000);
      const endAt = new Date(startAt.getTime() + (options.minutes ?? 30) * 60_000);
      return (
        await one<{ id: string }>(
          `INSERT INTO slots (location_id, resource_id, time_zone, start_at, end_at, capacity, status)
           VALUES ($1, $2, 'UTC', $3, $4, $5, $6) RETURNING id`,
          [locationId, resourceId, startAt, endAt, options.capacity ?? 1, options.status ?? 'OPEN'],
        )
      ).id;
    },
    async slotCounts(slotId: string) {
      return one<{ booked: number; held: number; status: string; version: number }>(
        `SELECT booked, held, status, version FROM slots WHERE id = $1`,
        [slotId],
      );
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

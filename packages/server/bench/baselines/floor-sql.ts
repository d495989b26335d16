import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';

/**
 * The SQL of each benchmarked operation, run straight through `pg`: what the stack floor
 * (graphql-yoga) and bare node:http answer with. Reads are one query; writes are one transaction
 * on a held connection (a failing `pool.query` would drop its connection and reconnect).
 */
export class FloorSql {
  constructor(private readonly pool: pg.Pool) {}

  async availability(resourceId: string, from: string, to: string) {
    const { rows } = await this.pool.query(
      `SELECT id, start_at AS "startAt", end_at AS "endAt", status,
              CASE WHEN status IN ('BLOCKED', 'CANCELLED') THEN 0 ELSE greatest(0, capacity - booked - held) END AS remaining,
              to_char(start_at AT TIME ZONE time_zone, 'YYYY-MM-DD') AS "localDate",
              to_char(start_at AT TIME ZONE time_zone, 'HH24:MI') AS "localStart",
              to_char(end_at AT TIME ZONE time_zone, 'HH24:MI') AS "localEnd", time_zone AS "timeZone"
         FROM slots WHERE resource_id = $1 AND start_at >= $2 AND start_at < $3 AND status <> 'CANCELLED'
        ORDER BY start_at, id`,
      [resourceId, from, to],
    );
    return { timeZone: rows[0]?.timeZone ?? 'UTC', slots: rows };
  }

  /** The day's bookable slots in one query; k of them chosen by a seeded hash (seed 003's shape). */
  async exposedSlots(resourceId: string, date: string, sessionId: string) {
    const { rows } = await this.pool.query(
      `SELECT s.id, s.start_at AS "startAt", s.end_at AS "endAt", s.status, s.capacity - s.booked - s.held AS remaining,
              to_char(s.start_at AT TIME ZONE s.time_zone, 'HH24:MI') AS "localStart"
         FROM slots s
        WHERE s.resource_id = $1 AND s.status IN ('OPEN', 'PARTIAL') AND s.capacity > s.booked + s.held
          AND s.start_at >= ($2::date::timestamp AT TIME ZONE s.time_zone)
          AND s.start_at < (($2::date + 1)::timestamp AT TIME ZONE s.time_zone)
        ORDER BY s.start_at`,
      [resourceId, date],
    );
    const seed = createHash('sha256').update(`${sessionId}|${date}|${resourceId}`).digest();
    const k = Math.min(rows.length, 1 + (seed[0]! % 3));
    const picked = rows
      .map((row, i) => ({ row, rank: seed[(i % 28) + 1]! ^ i }))
      .sort((a, b) => a.rank - b.rank)
      .slice(0, k)
      .map((p) => p.row)
      .sort((a, b) => a.startAt - b.startAt);
    return { total: rows.length, hasMore: rows.length > k, k, slots: picked };
  }

  /** Free ranges of a duration on 15-minute steps inside the weekly working hours, minus live bookings. */
  async searchAvailability(resourceId: string, from: string, to: string, durationMinutes: number) {
    const { rows } = await this.pool.query(
      `SELECT s AS "startAt", s + make_interval(mins => $4) AS "endAt"
         FROM resources r
         JOIN locations l ON l.id = r.location_id
         JOIN availability_rules ar ON ar.location_id = r.location_id AND ar.resource_id IS NULL AND ar.kind = 'WEEKLY' AND NOT ar.is_closed
        CROSS JOIN LATERAL generate_series(($2::timestamptz AT TIME ZONE l.time_zone)::date, ($3::timestamptz AT TIME ZONE l.time_zone)::date, interval '1 day') d
        CROSS JOIN LATERAL generate_series(
               (d::date + make_interval(mins => ar.start_minute)) AT TIME ZONE l.time_zone,
               (d::date + make_interval(mins => ar.end_minute - $4)) AT TIME ZONE l.time_zone,
               interval '15 minutes') s
        WHERE r.id = $1 AND extract(isodow FROM d)::smallint = ANY (ar.days_of_week)
          AND s >= $2 AND s + make_interval(mins => $4) <= $3
          AND NOT EXISTS (
            SELECT 1 FROM bookings b
             WHERE b.resource_id = r.id AND b.exclusive AND b.status IN ('HELD', 'CONFIRMED')
               AND tstzrange(b.start_at, b.end_at) && tstzrange(s, s + make_interval(mins => $4)))
        ORDER BY s`,
      [resourceId, from, to, durationMinutes],
    );
    return { ranges: rows };
  }

  /** A user's bookings in the next 90 days: linked to the account or made with its email. */
  async myBookings(userId: string, email: string) {
    const { rows } = await this.pool.query(
      `SELECT id, status, start_at AS "startAt", end_at AS "endAt" FROM bookings
        WHERE (user_id = $1 OR customer_email_hash = $2) AND end_at > now() AND start_at < now() + interval '90 days'
        ORDER BY start_at, id`,
      [userId, hashOf(email)],
    );
    return rows;
  }

  /** hold (HELD, held + 1) or book (CONFIRMED, booked + 1) one place of a slot. */
  async bookSlot(slotId: string, mode: 'hold' | 'book', customer: { name: string; email: string }) {
    return this.transaction(async (c) => {
      const { rows } = await c.query(
        'SELECT capacity, booked, held, status, start_at, end_at, resource_id, location_id FROM slots WHERE id = $1 FOR UPDATE',
        [slotId],
      );
      const slot = rows[0];
      if (!slot) return { __typename: 'NotFoundError' as const };
      if (slot.status === 'BLOCKED' || slot.status === 'CANCELLED' || slot.capacity - slot.booked - slot.held < 1) {
        return { __typename: 'SlotFullError' as const };
      }
      // The same customer twice on one slot breaks a partial unique index: answered as a conflict, as Slotwise does.
      await c.query('SAVEPOINT attempt');
      await c.query(`UPDATE slots SET ${mode === 'hold' ? 'held = held + 1' : 'booked = booked + 1'} WHERE id = $1`, [slotId]);
      const booking = await c
        .query(
          `INSERT INTO bookings (kind, slot_id, resource_id, location_id, start_at, end_at, status, hold_expires_at,
                               customer_name, customer_email, customer_email_hash, ics_uid, confirmed_at)
         VALUES ('SLOT', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id, status`,
          [
            slotId,
            slot.resource_id,
            slot.location_id,
            slot.start_at,
            slot.end_at,
            mode === 'hold' ? 'HELD' : 'CONFIRMED',
            mode === 'hold' ? new Date(Date.now() + 10 * 60_000) : null,
            customer.name,
            customer.email,
            hashOf(customer.email),
            `${randomUUID()}@bench`,
            mode === 'book' ? new Date() : null,
          ],
        )
        .catch(async (err) => {
          if ((err as { code?: string }).code !== '23505') throw err;
          await c.query('ROLLBACK TO SAVEPOINT attempt');
          return null;
        });
      if (!booking) return { __typename: 'DuplicateBookingError' as const };
      await this.audit(c, booking.rows[0].id, mode, { slotId, status: booking.rows[0].status });
      return { __typename: 'Booking' as const, id: booking.rows[0].id as string, status: booking.rows[0].status as string };
    });
  }

  /** A range booking on an exclusive resource; the exclusion constraint decides conflicts. */
  async bookRange(resourceId: string, startAt: string, endAt: string, customer: { name: string; email: string }) {
    return this.transaction(async (c) => {
      await c.query('SAVEPOINT attempt');
      try {
        const booking = await c.query(
          `INSERT INTO bookings (kind, resource_id, location_id, exclusive, start_at, end_at, status, customer_name,
                                 customer_email, customer_email_hash, ics_uid, confirmed_at)
           SELECT 'RANGE', r.id, r.location_id, true, $2, $3, 'CONFIRMED', $4, $5, $6, $7, now() FROM resources r WHERE r.id = $1
           RETURNING id`,
          [resourceId, startAt, endAt, customer.name, customer.email, hashOf(customer.email), `${randomUUID()}@bench`],
        );
        await this.audit(c, booking.rows[0].id, 'book', { resourceId, startAt, endAt });
        return { __typename: 'Booking' as const, id: booking.rows[0].id as string };
      } catch (err) {
        if ((err as { code?: string }).code !== '23P01') throw err;
        await c.query('ROLLBACK TO SAVEPOINT attempt');
        const { rows } = await c.query(
          `SELECT start_at AS "startAt", end_at AS "endAt" FROM bookings
            WHERE resource_id = $1 AND exclusive AND status IN ('HELD', 'CONFIRMED') AND tstzrange(start_at, end_at) && tstzrange($2, $3)
            ORDER BY start_at LIMIT 1`,
          [resourceId, startAt, endAt],
        );
        return { __typename: 'BookingConflictError' as const, conflict: rows[0] ?? null };
      }
    });
  }

  private async audit(c: pg.PoolClient, bookingId: string, action: string, values: unknown) {
    await c.query(`INSERT INTO audit_events (entity_type, entity_id, action, actor_label, new_values) VALUES ('Booking', $1, $2, 'public', $3)`, [
      bookingId,
      action,
      JSON.stringify(values),
    ]);
  }

  /** Deadlocks between concurrent exclusion-constraint checks are retried, as Slotwise does (src/db/retry.ts). */
  private async transaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(fn);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (attempt >= 4 || (code !== '40P01' && code !== '40001')) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
      }
    }
  }

  private async once<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const result = await fn(c);
      await c.query('COMMIT');
      return result;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }
}

const hashOf = (value: string) => createHash('sha256').update(value).digest('hex');

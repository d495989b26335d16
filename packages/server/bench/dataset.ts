import pg from 'pg';

export const BENCH_ZONE = 'Europe/Berlin';
export const LOCATIONS = 10;
export const RESOURCES_PER_LOCATION = 20;
/** Of each location's resources, the last ones are exclusive rooms (range bookings, searchAvailability). */
export const PEOPLE_PER_LOCATION = 15;
export const DAYS = 60;
export const SLOTS_PER_DAY = 24; // 08:00-20:00 local, 30 minutes
/** The live suite books slots on these days (from firstDate); the booking suite leaves them free. */
export const LIVE_FIRST_DAY = 56;
export const LIVE_DAYS = 2;

/** The live suite's window, as UTC instants. */
export const liveWindow = (dataset: Dataset) => ({
  from: `${addDays(dataset.firstDate, LIVE_FIRST_DAY)}T00:00:00Z`,
  to: `${addDays(dataset.firstDate, LIVE_FIRST_DAY + LIVE_DAYS)}T00:00:00Z`,
});

export interface Dataset {
  people: { id: string; locationId: string }[];
  rooms: { id: string; locationId: string }[];
  /** First local date with slots (tomorrow), YYYY-MM-DD. */
  firstDate: string;
}

/** How big a dataset to load: BENCH_SCALE (default 1) multiplies the locations, and above 1 adds bookings. */
export interface DatasetSize {
  locations: number;
  days: number;
  /** 1 in this many of the people's slots gets a confirmed booking, as many more a cancelled one; 0: none. */
  bookEvery: number;
}

export function datasetSize(scale = Number(process.env.BENCH_SCALE ?? 1)): DatasetSize {
  if (!Number.isInteger(scale) || scale < 1) throw new Error(`BENCH_SCALE must be a whole number >= 1, not ${process.env.BENCH_SCALE}`);
  return { locations: LOCATIONS * scale, days: DAYS, bookEvery: scale > 1 ? 8 : 0 };
}

/**
 * 200 resources x 60 days of 30-minute slots (288,000 slots) in 10 locations per BENCH_SCALE, inserted
 * with generate_series in one transaction, plus a weekly 08:00-20:00 rule per location (working hours).
 * With BENCH_SCALE > 1, one in eight of the people's slots (outside the live suite's days) is booked and
 * as many others carry a cancelled booking: at 10, 2.88 million slots and about 540,000 bookings.
 */
export async function loadDataset(databaseUrl: string, size: DatasetSize = datasetSize()): Promise<Dataset> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(`INSERT INTO locations (name, time_zone) SELECT 'Bench location ' || i, $1 FROM generate_series(1, $2::int) i`, [
      BENCH_ZONE,
      size.locations,
    ]);
    await client.query(
      `INSERT INTO resources (location_id, kind, name, capacity, exclusive)
       SELECT l.id, (CASE WHEN j <= $1 THEN 'PERSON' ELSE 'ROOM' END)::resource_kind, l.name || ' / ' || j, 1, j > $1
         FROM locations l, generate_series(1, $2::int) j`,
      [PEOPLE_PER_LOCATION, RESOURCES_PER_LOCATION],
    );
    await client.query(
      `INSERT INTO availability_rules (location_id, kind, days_of_week, start_minute, end_minute, slot_duration_minutes)
       SELECT id, 'WEEKLY', '{1,2,3,4,5,6,7}', 480, 1200, 30 FROM locations`,
    );
    // booked = 1 on the slots that get a confirmed booking below (the trigger derives their status).
    await client.query(
      `INSERT INTO slots (location_id, resource_id, time_zone, start_at, end_at, capacity, booked)
       SELECT r.location_id, r.id, $1, s.at, s.at + interval '30 minutes', r.capacity, s.booked
         FROM resources r
        CROSS JOIN generate_series(1, $2::int) d
        CROSS JOIN LATERAL (
          SELECT ((current_date + d + time '08:00' + n * interval '30 minutes') AT TIME ZONE $1) AS at,
                 CASE WHEN $4::int > 0 AND NOT r.exclusive AND d - 1 NOT BETWEEN $5::int AND $5::int + $6::int - 1
                       AND (d + n + abs(hashtext(r.id::text))) % $4::int = 0 THEN 1 ELSE 0 END AS booked
            FROM generate_series(0, $3::int - 1) n) s`,
      [BENCH_ZONE, size.days, SLOTS_PER_DAY, size.bookEvery, LIVE_FIRST_DAY, LIVE_DAYS],
    );
    if (size.bookEvery) {
      await client.query(
        `INSERT INTO bookings (kind, slot_id, resource_id, location_id, start_at, end_at, status, customer_name, customer_email,
           customer_email_hash, ics_uid, confirmed_at, cancelled_at)
         SELECT 'SLOT', s.id, s.resource_id, s.location_id, s.start_at, s.end_at, b.status, 'Bench customer', 'bench@bench.example',
           md5(s.id::text || b.status::text), s.id::text || '.' || b.status::text || '@bench', now(), CASE WHEN b.status = 'CANCELLED' THEN now() END
           FROM slots s
           JOIN resources r ON r.id = s.resource_id AND NOT r.exclusive
          CROSS JOIN LATERAL (SELECT (CASE WHEN s.booked = 1 THEN 'CONFIRMED' ELSE 'CANCELLED' END)::booking_status AS status) b
          WHERE s.booked = 1 OR (abs(hashtext(s.id::text)) % $1::int = 0 AND s.start_at < current_date + $2::int)`,
        [size.bookEvery, LIVE_FIRST_DAY],
      );
    }
    await client.query('COMMIT');
    await client.query('ANALYZE');
    const resources = await client.query<{ id: string; location_id: string; exclusive: boolean }>(
      'SELECT id, location_id, exclusive FROM resources ORDER BY name',
    );
    const { rows } = await client.query<{ d: string }>(`SELECT to_char(current_date + 1, 'YYYY-MM-DD') AS d`);
    const pick = (exclusive: boolean) =>
      resources.rows.filter((r) => r.exclusive === exclusive).map((r) => ({ id: r.id, locationId: r.location_id }));
    return { people: pick(false), rooms: pick(true), firstDate: rows[0]!.d };
  } finally {
    await client.end();
  }
}

/** Relay global ID, as the API expects. */
export const globalId = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString('base64');

/** Adds days to a YYYY-MM-DD date. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

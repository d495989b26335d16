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

/**
 * 200 resources x 60 days of 30-minute slots (288,000 slots) in 10 locations, inserted with
 * generate_series in one transaction, plus a weekly 08:00-20:00 rule per location (working hours).
 */
export async function loadDataset(databaseUrl: string): Promise<Dataset> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO locations (name, time_zone) SELECT 'Bench location ' || i, $1 FROM generate_series(1, $2::int) i`,
      [BENCH_ZONE, LOCATIONS],
    );
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
    await client.query(
      `INSERT INTO slots (location_id, resource_id, time_zone, start_at, end_at, capacity)
       SELECT r.location_id, r.id, $1, s.at, s.at + interval '30 minutes', r.capacity
         FROM resources r
        CROSS JOIN generate_series(1, $2::int) d
        CROSS JOIN LATERAL (
          SELECT ((current_date + d + time '08:00' + n * interval '30 minutes') AT TIME ZONE $1) AS at
            FROM generate_series(0, $3::int - 1) n) s`,
      [BENCH_ZONE, DAYS, SLOTS_PER_DAY],
    );
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

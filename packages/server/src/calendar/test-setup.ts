import type { TestApp } from '../../test/harness.js';

export const HOST = { name: 'Dr. Ada Moreno', email: 'ada.host@clinic.example' };
export const GUEST = { name: 'Grace Hopper', email: 'grace.guest@mail.example' };

/** A New York clinic with a host (a PERSON with an email) and an exclusive room, written straight to the database. */
export async function clinic(t: TestApp) {
  const sql = t.app.db.sql;
  const one = async (text: string, params: unknown[]) => ((await sql.query<{ id: string }>(text, params))[0]!).id;
  const locationId = await one(`INSERT INTO locations (name, time_zone, address) VALUES ('Riverside Clinic', 'America/New_York', '1 River St') RETURNING id`, []);
  const hostId = await one(`INSERT INTO resources (location_id, kind, name, email) VALUES ($1, 'PERSON', $2, $3) RETURNING id`, [locationId, HOST.name, HOST.email]);
  const roomId = await one(`INSERT INTO resources (location_id, kind, name, exclusive) VALUES ($1, 'ROOM', 'Studio Room', true) RETURNING id`, [locationId]);
  return {
    locationId,
    hostId,
    roomId,
    /** A slot of the host (capacity 1 unless given). */
    slot: (startAt: string, minutes = 30, capacity = 1) =>
      one(
        `INSERT INTO slots (location_id, resource_id, time_zone, start_at, end_at, capacity)
         VALUES ($1, $2, 'America/New_York', $3::timestamptz, $3::timestamptz + make_interval(mins => $4::int), $5) RETURNING id`,
        [locationId, hostId, startAt, minutes, capacity],
      ),
  };
}

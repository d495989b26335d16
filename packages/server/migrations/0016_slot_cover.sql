-- A slot on an exclusive resource is taken while another live booking of that resource overlaps it: a
-- range booking over its time, or a booking of another slot that overlaps it (a session opened over
-- generated slots). The exclusion constraint already refuses booking it; `covered` (how many such
-- bookings overlap it) lets every availability read leave it out as it leaves out a full slot, at no
-- cost to the reads: the status rule makes a covered slot FULL.
ALTER TABLE slots ADD COLUMN covered integer NOT NULL DEFAULT 0 CHECK (covered >= 0);

-- What `covered` counts is found by overlap, from either side.
CREATE INDEX slots_resource_during_idx ON slots USING gist (resource_id, tstzrange(start_at, end_at)) WHERE resource_id IS NOT NULL;

-- One place for the status rule: BLOCKED and CANCELLED are set by people, the rest follows the counts.
-- A new slot, or one whose time or resource changed, counts the bookings that cover it.
CREATE OR REPLACE FUNCTION slots_derive_status() RETURNS trigger AS $$
BEGIN
  -- (A slot ending before it starts has no range: the table's CHECK refuses it after this.)
  IF NEW.resource_id IS NULL OR NEW.end_at <= NEW.start_at THEN
    NEW.covered := 0;
  ELSIF TG_OP = 'INSERT' OR (NEW.start_at, NEW.end_at, NEW.resource_id) IS DISTINCT FROM (OLD.start_at, OLD.end_at, OLD.resource_id) THEN
    -- The live exclusive bookings of the resource overlapping it, not its own (the bookings the exclusion
    -- constraint's index holds). In PL/pgSQL, whose plan is kept: a SQL function was planned per slot.
    SELECT count(*)::int INTO NEW.covered FROM bookings b
     WHERE b.exclusive AND b.status IN ('HELD', 'CONFIRMED') AND b.resource_id = NEW.resource_id
       AND tstzrange(b.start_at, b.end_at) && tstzrange(NEW.start_at, NEW.end_at) AND b.slot_id IS DISTINCT FROM NEW.id;
  END IF;
  IF NEW.status NOT IN ('BLOCKED', 'CANCELLED') THEN
    NEW.status := CASE
      WHEN NEW.covered > 0 OR NEW.booked + NEW.held >= NEW.capacity THEN 'FULL'
      WHEN NEW.booked + NEW.held > 0 THEN 'PARTIAL'
      ELSE 'OPEN' END;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    NEW.version := OLD.version + 1;
    NEW.updated_at := now();
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;

-- A live exclusive booking covers the other slots of its resource it overlaps; whenever it stops being
-- live, moves or goes, it uncovers them. Every path that changes bookings goes through here.
CREATE FUNCTION bookings_cover_slots() RETURNS trigger AS $$
DECLARE
  was_live boolean := TG_OP <> 'INSERT' AND OLD.exclusive AND OLD.resource_id IS NOT NULL AND OLD.status IN ('HELD', 'CONFIRMED');
  is_live boolean := TG_OP <> 'DELETE' AND NEW.exclusive AND NEW.resource_id IS NOT NULL AND NEW.status IN ('HELD', 'CONFIRMED');
BEGIN
  IF was_live AND is_live AND (OLD.resource_id, OLD.start_at, OLD.end_at, OLD.slot_id) IS NOT DISTINCT FROM (NEW.resource_id, NEW.start_at, NEW.end_at, NEW.slot_id) THEN
    RETURN NULL;
  END IF;
  IF was_live THEN
    UPDATE slots SET covered = covered - 1
     WHERE resource_id = OLD.resource_id AND tstzrange(start_at, end_at) && tstzrange(OLD.start_at, OLD.end_at) AND id IS DISTINCT FROM OLD.slot_id;
  END IF;
  IF is_live THEN
    UPDATE slots SET covered = covered + 1
     WHERE resource_id = NEW.resource_id AND tstzrange(start_at, end_at) && tstzrange(NEW.start_at, NEW.end_at) AND id IS DISTINCT FROM NEW.slot_id;
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER bookings_cover_slots_insert AFTER INSERT ON bookings
  FOR EACH ROW WHEN (NEW.exclusive) EXECUTE FUNCTION bookings_cover_slots();
CREATE TRIGGER bookings_cover_slots_update AFTER UPDATE ON bookings
  FOR EACH ROW WHEN (OLD.exclusive OR NEW.exclusive) EXECUTE FUNCTION bookings_cover_slots();
CREATE TRIGGER bookings_cover_slots_delete AFTER DELETE ON bookings
  FOR EACH ROW WHEN (OLD.exclusive) EXECUTE FUNCTION bookings_cover_slots();

-- The slots already covered when this runs.
UPDATE slots s SET covered = c.n
  FROM (SELECT s2.id, count(*)::int AS n FROM slots s2
          JOIN bookings b ON b.resource_id = s2.resource_id AND b.exclusive AND b.status IN ('HELD', 'CONFIRMED')
               AND tstzrange(b.start_at, b.end_at) && tstzrange(s2.start_at, s2.end_at) AND b.slot_id IS DISTINCT FROM s2.id
         GROUP BY s2.id) c
 WHERE s.id = c.id;

-- Two-party sessions and calendar invites (issue #12 part B, seed 004 slices 1 and 10).

-- A session slot: a one-off slot a host (a PERSON with an email) opens for one guest. Its length is
-- one of the seed's 30 / 60 / 90 minutes and matches its times; null on every other slot. Generation
-- leaves session slots alone (no rule produces them).
ALTER TABLE slots ADD COLUMN session_minutes integer;
ALTER TABLE slots ADD CONSTRAINT slots_session_shape CHECK (
  session_minutes IS NULL OR (
    session_minutes IN (30, 60, 90)
    AND end_at - start_at = make_interval(mins => session_minutes)
    AND capacity = 1
    AND resource_id IS NOT NULL
    AND form_id IS NULL));

-- The zone the customer reads times in (IANA), when they gave one; mails fall back to the location's.
ALTER TABLE bookings ADD COLUMN customer_time_zone text;

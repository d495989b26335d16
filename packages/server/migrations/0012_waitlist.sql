-- Waitlists (issue 19, seed 003's next phase): a customer waits for a full slot, or for any slot of a
-- resource in a window; when a place frees, the first one waiting gets a hold and a mail to confirm it.

CREATE TYPE waitlist_status AS ENUM ('WAITING', 'OFFERED', 'BOOKED', 'LAPSED', 'LEFT');

CREATE TABLE waitlist_entries (
  id                   uuid PRIMARY KEY DEFAULT uuid_v7(),
  -- first come, first served: the order places are offered in
  position             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  -- what is waited for: one slot, or any slot of a resource starting and ending inside [window_start, window_end]
  slot_id              uuid REFERENCES slots(id),
  resource_id          uuid REFERENCES resources(id),
  window_start         timestamptz,
  window_end           timestamptz,
  -- PII: encrypted like a booking's customer, with lookup hashes
  customer_name        text NOT NULL,
  customer_email       text NOT NULL,
  customer_email_hash  text NOT NULL,
  customer_phone       text,
  customer_phone_hash  text,
  customer_time_zone   text,
  status               waitlist_status NOT NULL DEFAULT 'WAITING',
  -- the hold made for this entry when a place freed
  offered_booking_id   uuid REFERENCES bookings(id),
  offered_at           timestamptz,
  -- the customer's link to leave the list: only its SHA-256 is stored
  leave_token_hash     text NOT NULL UNIQUE,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  CHECK ((slot_id IS NOT NULL) <> (window_start IS NOT NULL)),
  CHECK ((window_start IS NULL) = (window_end IS NULL) AND (window_start IS NULL OR (resource_id IS NOT NULL AND window_end > window_start))),
  CHECK ((status IN ('WAITING', 'LEFT')) OR offered_booking_id IS NOT NULL)
);
-- One place in line per customer and thing waited for.
CREATE UNIQUE INDEX waitlist_entries_one_per_slot ON waitlist_entries (slot_id, customer_email_hash)
  WHERE slot_id IS NOT NULL AND status IN ('WAITING', 'OFFERED');
CREATE INDEX waitlist_entries_slot_waiting_idx ON waitlist_entries (slot_id, position) WHERE status = 'WAITING';
CREATE INDEX waitlist_entries_resource_waiting_idx ON waitlist_entries (resource_id, window_start, position) WHERE status = 'WAITING' AND slot_id IS NULL;
CREATE UNIQUE INDEX waitlist_entries_offered_booking_idx ON waitlist_entries (offered_booking_id) WHERE offered_booking_id IS NOT NULL;

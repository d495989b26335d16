-- The lifecycle events of bookings, registrations, proposals and waitlists (issues 19 and 20):
-- written in the same transaction as the change, so an event exists exactly for what committed.
-- Consumers (webhook deliveries, the event-bus relay) read from here after commit.
CREATE TABLE domain_events (
  id             uuid PRIMARY KEY DEFAULT uuid_v7(),
  -- global insertion order (not commit order: consumers that need order use aggregate_seq)
  position       bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  -- e.g. booking.held, booking.confirmed, registration.created
  type           text NOT NULL CHECK (type ~ '^[a-z]+(\.[a-z_]+)+$'),
  -- the payload's schema version, for consumers
  version        integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  aggregate_type text NOT NULL CHECK (aggregate_type ~ '^[a-z_]+$'),
  aggregate_id   uuid NOT NULL,
  -- 1, 2, 3, ... per aggregate: the order of one booking's events, whatever the commit order of others
  aggregate_seq  integer NOT NULL CHECK (aggregate_seq >= 1),
  occurred_at    timestamptz NOT NULL,
  -- never contact data (emails, phones, names): consumers read those through the API if allowed
  payload        jsonb NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (aggregate_type, aggregate_id, aggregate_seq)
);
CREATE INDEX domain_events_created_idx ON domain_events (created_at);

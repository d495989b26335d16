-- Slotwise: core tables. Invariants live here, in the database, not only in code.
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- Time-ordered UUIDs (v7): index-friendly, and they sort by creation.
CREATE FUNCTION uuid_v7() RETURNS uuid AS $$
  SELECT encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
        placing substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
        FROM 1 FOR 6),
      52, 1), 53, 1), 'hex')::uuid
$$ LANGUAGE sql VOLATILE;

CREATE TYPE role AS ENUM ('admin', 'manager', 'scheduler', 'frontdesk', 'user');

CREATE TABLE users (
  id          uuid PRIMARY KEY DEFAULT uuid_v7(),
  email       text NOT NULL UNIQUE CHECK (email = lower(email) AND position('@' IN email) > 1),
  name        text NOT NULL DEFAULT '',
  roles       role[] NOT NULL DEFAULT '{user}',
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_tokens (
  id           uuid PRIMARY KEY DEFAULT uuid_v7(),
  user_id      uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name         text NOT NULL,
  token_hash   text NOT NULL UNIQUE,
  prefix       text NOT NULL,
  expires_at   timestamptz,
  last_used_at timestamptz,
  revoked_at   timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

CREATE TABLE locations (
  id          uuid PRIMARY KEY DEFAULT uuid_v7(),
  name        text NOT NULL CHECK (length(btrim(name)) > 0),
  time_zone   text NOT NULL,
  address     text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TYPE resource_kind AS ENUM ('PERSON', 'FACILITY', 'ROOM');

CREATE TABLE resources (
  id          uuid PRIMARY KEY DEFAULT uuid_v7(),
  location_id uuid NOT NULL REFERENCES locations(id),
  kind        resource_kind NOT NULL,
  name        text NOT NULL CHECK (length(btrim(name)) > 0),
  email       text,
  capacity    integer NOT NULL DEFAULT 1 CHECK (capacity >= 1),
  -- exclusive: bookable by free time range, never two live bookings overlapping
  exclusive   boolean NOT NULL DEFAULT false,
  active      boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX resources_location_idx ON resources (location_id);

CREATE TYPE rule_kind AS ENUM ('WEEKLY', 'DATE_RANGE', 'EXCEPTION');

-- Wall-clock rules: minutes after local midnight, interpreted in the location's zone.
CREATE TABLE availability_rules (
  id                    uuid PRIMARY KEY DEFAULT uuid_v7(),
  location_id           uuid NOT NULL REFERENCES locations(id),
  resource_id           uuid REFERENCES resources(id) ON DELETE CASCADE,
  kind                  rule_kind NOT NULL,
  days_of_week          smallint[] NOT NULL DEFAULT '{}' CHECK (days_of_week <@ '{1,2,3,4,5,6,7}'::smallint[]),
  start_minute          integer NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
  end_minute            integer NOT NULL CHECK (end_minute BETWEEN 1 AND 1440),
  slot_duration_minutes integer NOT NULL DEFAULT 30 CHECK (slot_duration_minutes BETWEEN 5 AND 480),
  granularity_minutes   integer NOT NULL DEFAULT 15 CHECK (granularity_minutes BETWEEN 5 AND 480),
  capacity              integer NOT NULL DEFAULT 1 CHECK (capacity >= 1),
  valid_from            date,
  valid_to              date,
  is_closed             boolean NOT NULL DEFAULT false,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  CHECK (end_minute > start_minute),
  CHECK (slot_duration_minutes % granularity_minutes = 0),
  CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from),
  CHECK (kind = 'WEEKLY' OR (valid_from IS NOT NULL AND valid_to IS NOT NULL))
);
CREATE INDEX availability_rules_resource_idx ON availability_rules (resource_id);
CREATE INDEX availability_rules_location_idx ON availability_rules (location_id);

CREATE TYPE form_status AS ENUM ('DRAFT', 'PUBLISHED', 'CLOSED');

-- A timeslot signup sheet (seed 000): its own slots, shown on a public page by slug.
CREATE TABLE forms (
  id                         uuid PRIMARY KEY DEFAULT uuid_v7(),
  slug                       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 80),
  title                      text NOT NULL CHECK (length(btrim(title)) > 0),
  description                text,
  time_zone                  text NOT NULL,
  status                     form_status NOT NULL DEFAULT 'DRAFT',
  max_slots_per_registration integer CHECK (max_slots_per_registration >= 1),
  location_id                uuid REFERENCES locations(id),
  created_by                 uuid REFERENCES users(id),
  published_at               timestamptz,
  closed_at                  timestamptz,
  created_at                 timestamptz NOT NULL DEFAULT now(),
  updated_at                 timestamptz NOT NULL DEFAULT now()
);

CREATE TYPE slot_status AS ENUM ('OPEN', 'PARTIAL', 'FULL', 'BLOCKED', 'CANCELLED');

CREATE TABLE slots (
  id          uuid PRIMARY KEY DEFAULT uuid_v7(),
  location_id uuid REFERENCES locations(id),
  resource_id uuid REFERENCES resources(id),
  form_id     uuid REFERENCES forms(id),
  rule_id     uuid REFERENCES availability_rules(id) ON DELETE SET NULL,
  time_zone   text NOT NULL,
  start_at    timestamptz NOT NULL,
  end_at      timestamptz NOT NULL,
  capacity    integer NOT NULL CHECK (capacity >= 0),
  booked      integer NOT NULL DEFAULT 0 CHECK (booked >= 0),
  held        integer NOT NULL DEFAULT 0 CHECK (held >= 0),
  status      slot_status NOT NULL DEFAULT 'OPEN',
  -- bumped on every change, so live clients can drop stale events
  version     integer NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (end_at > start_at),
  CHECK (booked + held <= capacity),
  CHECK (location_id IS NOT NULL OR form_id IS NOT NULL)
);
-- Generation is idempotent: one slot per resource and start, per location and start for location-wide
-- slots, and per form, start and end for form slots.
CREATE UNIQUE INDEX slots_resource_start_key ON slots (resource_id, start_at) WHERE resource_id IS NOT NULL;
CREATE UNIQUE INDEX slots_location_start_key ON slots (location_id, start_at) WHERE resource_id IS NULL AND form_id IS NULL;
CREATE UNIQUE INDEX slots_form_start_end_key ON slots (form_id, start_at, end_at) WHERE form_id IS NOT NULL;
CREATE INDEX slots_location_start_idx ON slots (location_id, start_at);

-- One place for the status rule: BLOCKED and CANCELLED are set by people, the rest follows the counts.
CREATE FUNCTION slots_derive_status() RETURNS trigger AS $$
BEGIN
  IF NEW.status NOT IN ('BLOCKED', 'CANCELLED') THEN
    NEW.status := CASE
      WHEN NEW.booked + NEW.held >= NEW.capacity THEN 'FULL'
      WHEN NEW.booked + NEW.held > 0 THEN 'PARTIAL'
      ELSE 'OPEN' END;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    NEW.version := OLD.version + 1;
    NEW.updated_at := now();
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER slots_derive_status BEFORE INSERT OR UPDATE ON slots
  FOR EACH ROW EXECUTE FUNCTION slots_derive_status();

CREATE TYPE booking_status AS ENUM ('HELD', 'CONFIRMED', 'CANCELLED', 'EXPIRED');
CREATE TYPE booking_kind AS ENUM ('SLOT', 'RANGE');

CREATE TABLE bookings (
  id                  uuid PRIMARY KEY DEFAULT uuid_v7(),
  kind                booking_kind NOT NULL,
  slot_id             uuid REFERENCES slots(id),
  resource_id         uuid REFERENCES resources(id),
  location_id         uuid REFERENCES locations(id),
  -- true when the booking occupies an exclusive resource: the exclusion constraint below applies
  exclusive           boolean NOT NULL DEFAULT false,
  start_at            timestamptz NOT NULL,
  end_at              timestamptz NOT NULL,
  status              booking_status NOT NULL,
  hold_expires_at     timestamptz,
  user_id             uuid REFERENCES users(id),
  customer_name       text NOT NULL CHECK (length(btrim(customer_name)) > 0),
  -- PII: encrypted (AES-256-GCM) with a keyed lookup hash beside it
  customer_email      text NOT NULL,
  customer_email_hash text NOT NULL,
  customer_phone      text,
  customer_phone_hash text,
  notes               text,
  manage_token_hash   text UNIQUE,
  ics_uid             text NOT NULL UNIQUE,
  ics_sequence        integer NOT NULL DEFAULT 0 CHECK (ics_sequence >= 0),
  confirmed_at        timestamptz,
  cancelled_at        timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CHECK (end_at > start_at),
  CHECK (status <> 'HELD' OR hold_expires_at IS NOT NULL),
  CHECK ((kind = 'SLOT') = (slot_id IS NOT NULL)),
  CHECK (kind = 'SLOT' OR (resource_id IS NOT NULL AND exclusive)),
  -- range bookings: 15-minute boundaries, at most 8 hours
  CHECK (kind = 'SLOT' OR (
    mod(extract(epoch FROM start_at), 900) = 0
    AND mod(extract(epoch FROM end_at), 900) = 0
    AND end_at - start_at <= interval '8 hours')),
  CONSTRAINT bookings_no_overlap EXCLUDE USING gist (
    resource_id WITH =, tstzrange(start_at, end_at) WITH &&
  ) WHERE (exclusive AND status IN ('HELD', 'CONFIRMED'))
);
CREATE INDEX bookings_slot_idx ON bookings (slot_id);
CREATE INDEX bookings_resource_start_idx ON bookings (resource_id, start_at);
CREATE INDEX bookings_user_start_idx ON bookings (user_id, start_at);
CREATE INDEX bookings_email_hash_idx ON bookings (customer_email_hash);
CREATE INDEX bookings_held_expiry_idx ON bookings (hold_expires_at) WHERE status = 'HELD';

-- A form registration: one person's answers and the slots they booked (one booking per slot).
CREATE TABLE registrations (
  id          uuid PRIMARY KEY DEFAULT uuid_v7(),
  form_id     uuid NOT NULL REFERENCES forms(id),
  name        text NOT NULL CHECK (length(btrim(name)) > 0),
  email       text NOT NULL,
  email_hash  text NOT NULL,
  phone       text,
  phone_hash  text,
  answers     jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX registrations_form_idx ON registrations (form_id, created_at);

CREATE TABLE registration_slots (
  registration_id uuid NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
  slot_id         uuid NOT NULL REFERENCES slots(id),
  booking_id      uuid NOT NULL UNIQUE REFERENCES bookings(id),
  PRIMARY KEY (registration_id, slot_id)
);
CREATE INDEX registration_slots_slot_idx ON registration_slots (slot_id);

CREATE TABLE audit_events (
  id          uuid PRIMARY KEY DEFAULT uuid_v7(),
  entity_type text NOT NULL,
  entity_id   uuid NOT NULL,
  action      text NOT NULL,
  actor_id    uuid,
  actor_label text NOT NULL,
  request_id  text,
  old_values  jsonb,
  new_values  jsonb,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_entity_idx ON audit_events (entity_type, entity_id, created_at);

CREATE TABLE idempotency_records (
  key          text NOT NULL,
  actor        text NOT NULL,
  operation    text NOT NULL,
  payload_hash text NOT NULL,
  response     jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  PRIMARY KEY (key, actor)
);
CREATE INDEX idempotency_records_expiry_idx ON idempotency_records (expires_at);

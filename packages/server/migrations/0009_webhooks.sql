-- Webhooks (issue 19): endpoints admins register, and one delivery per (domain event, endpoint)
-- written by a trigger in the transaction that records the event, so a delivery exists exactly
-- for what committed. Workers on any instance claim due deliveries with FOR UPDATE SKIP LOCKED.
CREATE TYPE webhook_delivery_status AS ENUM ('PENDING', 'SUCCEEDED', 'FAILED');

CREATE TABLE webhook_endpoints (
  id             uuid PRIMARY KEY DEFAULT uuid_v7(),
  url            text NOT NULL CHECK (url ~ '^https?://'),
  description    text,
  -- event types (booking.confirmed) or a whole aggregate's (proposal.*)
  event_types    text[] NOT NULL CHECK (cardinality(event_types) >= 1),
  -- the signing secret (whsec_...), encrypted with ENCRYPTION_KEY: shown once, needed for every signature
  secret         text NOT NULL,
  enabled        boolean NOT NULL DEFAULT true,
  -- why it was turned off: by an admin, or automatically after persistent failure
  disabled_reason text,
  disabled_at    timestamptz,
  -- the first failed attempt since the last success (NULL while healthy)
  failing_since  timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
  -- also the webhook-id header: the same on every attempt and replay, for the receiver's deduplication
  id             uuid PRIMARY KEY DEFAULT uuid_v7(),
  endpoint_id    uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_id       uuid NOT NULL REFERENCES domain_events (id) ON DELETE CASCADE,
  event_type     text NOT NULL,
  -- copied from the event: deliveries of one aggregate to one endpoint go out in aggregate_seq order
  aggregate_type text NOT NULL,
  aggregate_id   uuid NOT NULL,
  aggregate_seq  integer NOT NULL,
  status         webhook_delivery_status NOT NULL DEFAULT 'PENDING',
  attempts       integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  due_at         timestamptz NOT NULL DEFAULT now(),
  last_status_code integer,
  last_error     text,
  delivered_at   timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (due_at) WHERE status = 'PENDING';
CREATE INDEX webhook_deliveries_order_idx ON webhook_deliveries (endpoint_id, aggregate_type, aggregate_id, aggregate_seq) WHERE status = 'PENDING';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at);

-- The delivery log: one row per attempt, with the receiver's status code (NULL: no response).
CREATE TABLE webhook_attempts (
  id             uuid PRIMARY KEY DEFAULT uuid_v7(),
  delivery_id    uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  attempt        integer NOT NULL CHECK (attempt >= 1),
  status_code    integer,
  error          text,
  duration_ms    integer NOT NULL,
  attempted_at   timestamptz NOT NULL
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, attempted_at);

-- The fan-out: every recorded event gets a delivery for each enabled endpoint that subscribes to it.
CREATE FUNCTION webhook_fan_out() RETURNS trigger AS $$
BEGIN
  INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, aggregate_type, aggregate_id, aggregate_seq)
  SELECT w.id, NEW.id, NEW.type, NEW.aggregate_type, NEW.aggregate_id, NEW.aggregate_seq
  FROM webhook_endpoints w
  WHERE w.enabled AND (NEW.type = ANY (w.event_types) OR split_part(NEW.type, '.', 1) || '.*' = ANY (w.event_types));
  RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER domain_events_webhook_fan_out AFTER INSERT ON domain_events
  FOR EACH ROW EXECUTE FUNCTION webhook_fan_out();

-- Booking mails are rendered after commit (issue 18): a booking change records only this small intent
-- in its own transaction (so a mail exists exactly for what committed); a consumer on any instance
-- claims intents (FOR UPDATE SKIP LOCKED), renders the invitation, update or cancellation mails,
-- queues them in outbox_messages and deletes the intent, all in one transaction (a crash leaves the
-- intent for the next run). One booking's intents are rendered in `id` order.
CREATE TABLE booking_mail_intents (
  -- assigned at insert: a booking's later change (its row lock waits for the earlier commit) gets a larger id
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  booking_id    uuid NOT NULL REFERENCES bookings(id) ON DELETE CASCADE,
  kind          text NOT NULL CHECK (kind IN ('invitation', 'update', 'cancellation')),
  -- an update of what the parties see (title, notes, party), the time unchanged
  details_only  boolean NOT NULL DEFAULT false,
  -- the booking as the change left it (times, SEQUENCE, title, sealed notes, party): the mail shows this
  state         jsonb NOT NULL,
  -- the change's clock: the mail's DTSTAMP and "now"
  occurred_at   timestamptz NOT NULL,
  -- a failed render waits (backoff) and is tried again; nothing is dropped
  due_at        timestamptz NOT NULL DEFAULT now(),
  attempts      integer NOT NULL DEFAULT 0,
  last_error    text,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX booking_mail_intents_booking_idx ON booking_mail_intents (booking_id, id);
CREATE INDEX booking_mail_intents_due_idx ON booking_mail_intents (due_at, id);

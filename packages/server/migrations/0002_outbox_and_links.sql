-- Outbound mail and the links it carries (seeds 001 and 004).

CREATE TYPE outbox_status AS ENUM ('PENDING', 'SENT', 'FAILED', 'CANCELLED');

-- Every outbound mail, written in the same transaction as the change that causes it: a rolled-back
-- booking queues nothing. Workers on any instance claim due rows with FOR UPDATE SKIP LOCKED.
CREATE TABLE outbox_messages (
  id              uuid PRIMARY KEY DEFAULT uuid_v7(),
  -- what the mail is about: invitation, update, cancellation, reminder, registration, proposal, ...
  kind            text NOT NULL CHECK (kind ~ '^[a-z][a-z-]*$'),
  booking_id      uuid REFERENCES bookings(id),
  registration_id uuid REFERENCES registrations(id) ON DELETE SET NULL,
  -- the iCalendar identity of an invite: (uid, sequence, attendee, method) is never queued twice
  ics_uid         text,
  ics_sequence    integer CHECK (ics_sequence >= 0),
  ics_method      text CHECK (ics_method IN ('REQUEST', 'CANCEL', 'PUBLISH', 'REPLY', 'COUNTER', 'DECLINECOUNTER')),
  -- PII: the recipient's address encrypted, with its lookup hash
  recipient       text NOT NULL,
  recipient_hash  text NOT NULL,
  -- the duplicate guard of mails that are not one invite (reminders, registrations, proposals)
  dedupe_key      text UNIQUE,
  message_id      text NOT NULL UNIQUE,
  -- the rendered message (subject, text, html, calendar part), encrypted: it names people
  content         text NOT NULL,
  status          outbox_status NOT NULL DEFAULT 'PENDING',
  -- when the next attempt is due: the first send (a reminder's send time), then each retry
  due_at          timestamptz NOT NULL DEFAULT now(),
  attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error      text,
  sent_at         timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CHECK ((ics_uid IS NULL) = (ics_sequence IS NULL) AND (ics_uid IS NULL OR ics_method IS NOT NULL)),
  CHECK (ics_uid IS NOT NULL OR dedupe_key IS NOT NULL),
  CHECK (status <> 'SENT' OR sent_at IS NOT NULL)
);
CREATE UNIQUE INDEX outbox_messages_ics_key ON outbox_messages (ics_uid, ics_sequence, recipient_hash, ics_method)
  WHERE ics_uid IS NOT NULL;
CREATE INDEX outbox_messages_due_idx ON outbox_messages (due_at) WHERE status = 'PENDING';
CREATE INDEX outbox_messages_booking_idx ON outbox_messages (booking_id);
CREATE INDEX outbox_messages_status_idx ON outbox_messages (status, created_at);

CREATE TYPE magic_link_purpose AS ENUM ('manage', 'propose', 'approve', 'decline');
CREATE TYPE magic_link_role AS ENUM ('host', 'guest');

-- No-login links in mails: only the token's SHA-256 is stored. Bound to a booking, a purpose, the
-- party it was sent to and (for approve / decline) the proposal it decides.
CREATE TABLE magic_links (
  id          uuid PRIMARY KEY DEFAULT uuid_v7(),
  token_hash  text NOT NULL UNIQUE,
  purpose     magic_link_purpose NOT NULL,
  booking_id  uuid NOT NULL REFERENCES bookings(id),
  role        magic_link_role NOT NULL,
  email_hash  text NOT NULL,
  proposal_id uuid,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (expires_at > created_at)
);
CREATE INDEX magic_links_booking_idx ON magic_links (booking_id);

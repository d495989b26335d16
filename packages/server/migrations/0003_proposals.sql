-- Reschedule proposals, inbound calendar replies and delivery status (seed 004 slices 4-8).

CREATE TYPE proposal_status AS ENUM ('PENDING', 'APPROVED', 'DECLINED', 'SUPERSEDED', 'FAILED', 'EXPIRED');

-- A new time one party of a booking proposes; the other party approves or declines it. The booking's
-- SEQUENCE when it was proposed is kept: a booking that changed since then is not moved by it.
CREATE TABLE proposals (
  id                uuid PRIMARY KEY DEFAULT uuid_v7(),
  booking_id        uuid NOT NULL REFERENCES bookings(id),
  status            proposal_status NOT NULL DEFAULT 'PENDING',
  proposed_by       magic_link_role NOT NULL,
  -- how it arrived: a link page or GraphQL with a token, a signed-in caller, a calendar COUNTER
  source            text NOT NULL CHECK (source IN ('link', 'account', 'imip')),
  proposed_start_at timestamptz NOT NULL,
  proposed_end_at   timestamptz NOT NULL,
  -- slot bookings move to this slot; range bookings to the proposed range
  target_slot_id    uuid REFERENCES slots(id),
  booking_sequence  integer NOT NULL CHECK (booking_sequence >= 0),
  -- PII: the proposer's free text, encrypted
  note              text,
  expires_at        timestamptz NOT NULL,
  decided_at        timestamptz,
  decided_by        text,
  -- FAILED: TIME_UNAVAILABLE, BOOKING_CHANGED or BOOKING_NOT_ACTIVE
  failure_reason    text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CHECK (proposed_end_at > proposed_start_at),
  CHECK ((status = 'PENDING') = (decided_at IS NULL)),
  CHECK ((status = 'FAILED') = (failure_reason IS NOT NULL))
);
-- One pending proposal per booking: a new one supersedes the old in the same transaction.
CREATE UNIQUE INDEX proposals_one_pending_idx ON proposals (booking_id) WHERE status = 'PENDING';
CREATE INDEX proposals_booking_idx ON proposals (booking_id, created_at);

ALTER TABLE magic_links ADD CONSTRAINT magic_links_proposal_id_fkey FOREIGN KEY (proposal_id) REFERENCES proposals(id);
CREATE INDEX magic_links_proposal_idx ON magic_links (proposal_id) WHERE proposal_id IS NOT NULL;

-- Each party's last calendar answer and mail trouble, shown to staff on the booking.
CREATE TABLE booking_attendees (
  booking_id     uuid NOT NULL REFERENCES bookings(id),
  role           magic_link_role NOT NULL,
  partstat       text CHECK (partstat IN ('NEEDS-ACTION', 'ACCEPTED', 'TENTATIVE', 'DECLINED', 'DELEGATED')),
  replied_at     timestamptz,
  reply_sequence integer,
  bounced_at     timestamptz,
  bounce_detail  text,
  complained_at  timestamptz,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (booking_id, role)
);

-- Every inbound mail (calendar replies and anything else sent to the organizer mailbox).
CREATE TABLE imip_messages (
  id            uuid PRIMARY KEY DEFAULT uuid_v7(),
  message_id    text NOT NULL UNIQUE,
  source        text NOT NULL CHECK (source IN ('http', 'imap')),
  received_at   timestamptz NOT NULL DEFAULT now(),
  method        text,
  uid           text,
  sequence      integer,
  -- PII: the replying attendee, encrypted, with its lookup hash
  attendee      text,
  attendee_hash text,
  partstat      text,
  booking_id    uuid REFERENCES bookings(id),
  attendee_role magic_link_role,
  proposal_id   uuid REFERENCES proposals(id),
  outcome       text NOT NULL CHECK (outcome IN ('accepted', 'tentative', 'declined-guest', 'declined-host', 'counter-proposal',
                  'duplicate', 'stale', 'unknown-uid', 'not-calendar', 'unparseable')),
  detail        text,
  -- the raw RFC 5322 message (base64), encrypted: kept in the database so every instance can read it
  raw_message   text NOT NULL
);
-- The same answer to the same invite version counts once (a changed PARTSTAT is a new answer).
CREATE UNIQUE INDEX imip_messages_reply_key ON imip_messages (uid, method, sequence, attendee_hash, (coalesce(partstat, '')))
  WHERE uid IS NOT NULL AND outcome <> 'duplicate';
CREATE INDEX imip_messages_booking_idx ON imip_messages (booking_id);

-- Delivery reports from the mail provider for outbox messages.
CREATE TABLE mail_delivery_events (
  id                uuid PRIMARY KEY DEFAULT uuid_v7(),
  outbox_message_id uuid NOT NULL REFERENCES outbox_messages(id),
  status            text NOT NULL CHECK (status IN ('delivered', 'bounced', 'complained')),
  bounce_type       text CHECK (bounce_type IN ('hard', 'soft')),
  detail            text,
  received_at       timestamptz NOT NULL DEFAULT now(),
  CHECK (bounce_type IS NULL OR status = 'bounced')
);
CREATE INDEX mail_delivery_events_message_idx ON mail_delivery_events (outbox_message_id);

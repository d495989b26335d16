-- Personal data at rest, and one live booking per slot per customer (issue #14 items 6 and 7).

-- Names, booking notes and free-text answers are written encrypted by the application from now on
-- (AES-256-GCM, `v2.<key id>.<iv>.<tag>.<data>`, the format of email and phone; answers as
-- `{"sealed": "v2..."}`). SQL has no key, so rows written before this migration keep their plaintext
-- until `slotwise keys rotate` encrypts them; the application reads both.
COMMENT ON COLUMN bookings.customer_name IS 'PII, encrypted (plaintext in rows older than 0006 until keys rotate)';
COMMENT ON COLUMN bookings.notes IS 'PII, encrypted (plaintext in rows older than 0006 until keys rotate)';
COMMENT ON COLUMN registrations.name IS 'PII, encrypted (plaintext in rows older than 0006 until keys rotate)';
COMMENT ON COLUMN registrations.answers IS 'PII, {"sealed": ciphertext} ({question: answer} in rows older than 0006 until keys rotate)';

-- Seed 003: the same customer (email or phone lookup hash) holds a slot at most once while the
-- booking is live. A slot is one time on one day, so this is the seed's "per slot per day" rule;
-- its created_at::date variant would still let a customer take a slot twice on different days.
-- Rows that already break the rule are not changed (cancelling a customer's booking silently is
-- worse): the later ones of each group are marked and left out of the indexes, so the migration
-- cannot fail on them; staff see and resolve them (`legacy_duplicate`); a reschedule clears the mark.
ALTER TABLE bookings ADD COLUMN legacy_duplicate boolean NOT NULL DEFAULT false;
UPDATE bookings b SET legacy_duplicate = true
WHERE b.slot_id IS NOT NULL AND b.status IN ('HELD', 'CONFIRMED')
  AND EXISTS (
    SELECT 1 FROM bookings o
    WHERE o.slot_id = b.slot_id AND o.status IN ('HELD', 'CONFIRMED') AND o.id < b.id
      AND (o.customer_email_hash = b.customer_email_hash OR o.customer_phone_hash = b.customer_phone_hash));

CREATE UNIQUE INDEX bookings_one_live_per_email ON bookings (slot_id, customer_email_hash)
  WHERE slot_id IS NOT NULL AND status IN ('HELD', 'CONFIRMED') AND NOT legacy_duplicate;
CREATE UNIQUE INDEX bookings_one_live_per_phone ON bookings (slot_id, customer_phone_hash)
  WHERE slot_id IS NOT NULL AND customer_phone_hash IS NOT NULL AND status IN ('HELD', 'CONFIRMED') AND NOT legacy_duplicate;

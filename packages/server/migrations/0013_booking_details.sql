-- Booking details, parties and skills (issue #20 items 3 and 4).

-- A booking's own details. notes: the customer's, shown to them and staff; internal_notes: staff only.
-- Both are encrypted at rest like the customer's contact data (src/shared/pii.ts).
ALTER TABLE bookings ADD COLUMN title text CHECK (title IS NULL OR length(btrim(title)) BETWEEN 1 AND 200);
ALTER TABLE bookings ADD COLUMN internal_notes text;
-- A party takes party_size places of its slot's capacity (slots.held / slots.booked move by it, and
-- the slots CHECK (booked + held <= capacity) stays the no-overbooking guarantee). An exclusive
-- resource (and so every range booking) is one party of one.
ALTER TABLE bookings ADD COLUMN party_size integer NOT NULL DEFAULT 1 CHECK (party_size BETWEEN 1 AND 1000);
ALTER TABLE bookings ADD CONSTRAINT bookings_exclusive_party CHECK (NOT exclusive OR party_size = 1);

-- What a person can do ("dermatology"); availability searches filter by them. Lower-case words.
ALTER TABLE resources ADD COLUMN skills text[] NOT NULL DEFAULT '{}';
CREATE INDEX resources_skills_idx ON resources USING gin (skills);

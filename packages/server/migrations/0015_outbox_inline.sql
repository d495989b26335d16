-- A queued mail is sealed (AES-GCM, base64): about 2.4 KB that no compressor shrinks. Past 2 KB a row
-- made PostgreSQL try pglz on it, which failed every time, and then move it out of line into the
-- TOAST table (two more inserts per mail, and a TOAST read to deliver it), which took twice as long as
-- the insert itself (docs/performance.md). Rows up to the page size now stay in the row as they are.
ALTER TABLE outbox_messages SET (toast_tuple_target = 8160);

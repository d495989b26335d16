-- A queued mail is sealed (AES-GCM, base64): about 2.4 KB that no compressor shrinks. Above 2 KB a row
-- made PostgreSQL try pglz on it first, which failed every time and doubled the cost of the insert
-- (docs/performance.md). Rows up to the page size now stay inline as they are, without that attempt.
ALTER TABLE outbox_messages SET (toast_tuple_target = 8160);

-- Several workers or instances without Redis (issue #18): what Redis shares when it is there, PostgreSQL
-- shares otherwise. Both tables are UNLOGGED: short-lived counters and caches, not worth WAL; after a
-- crash PostgreSQL empties them, which only restarts a rate-limit window or an exposure.

-- Fixed one-minute rate-limit windows per client key (src/ratelimit/store.ts, PgRateLimitStore).
CREATE UNLOGGED TABLE rate_limit_windows (
  key text PRIMARY KEY,
  count integer NOT NULL,
  reset_at timestamptz NOT NULL
);
CREATE INDEX rate_limit_windows_reset_idx ON rate_limit_windows (reset_at);

-- Sticky exposedSlots answers (src/scheduling/exposure-cache.ts, PgExposureCache).
CREATE UNLOGGED TABLE exposure_cache (
  key text PRIMARY KEY,
  value jsonb NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX exposure_cache_expiry_idx ON exposure_cache (expires_at);

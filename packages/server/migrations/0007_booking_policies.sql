-- Booking policies (issue #19 item 1): per location as the default, per resource overriding it.
-- NULL means "no policy" (on a resource: the location's value applies). Enforced in the booking
-- transaction (src/policies/), and availability applies the same rule.
ALTER TABLE locations
  ADD COLUMN buffer_before_minutes integer CHECK (buffer_before_minutes BETWEEN 0 AND 1440),
  ADD COLUMN buffer_after_minutes integer CHECK (buffer_after_minutes BETWEEN 0 AND 1440),
  ADD COLUMN min_notice_minutes integer CHECK (min_notice_minutes BETWEEN 0 AND 525600),
  ADD COLUMN horizon_days integer CHECK (horizon_days BETWEEN 1 AND 3650),
  ADD COLUMN max_bookings_per_day integer CHECK (max_bookings_per_day BETWEEN 1 AND 100000),
  ADD COLUMN max_bookings_per_customer_per_day integer CHECK (max_bookings_per_customer_per_day BETWEEN 1 AND 1000),
  ADD COLUMN max_bookings_per_customer_per_week integer CHECK (max_bookings_per_customer_per_week BETWEEN 1 AND 1000);

ALTER TABLE resources
  ADD COLUMN buffer_before_minutes integer CHECK (buffer_before_minutes BETWEEN 0 AND 1440),
  ADD COLUMN buffer_after_minutes integer CHECK (buffer_after_minutes BETWEEN 0 AND 1440),
  ADD COLUMN min_notice_minutes integer CHECK (min_notice_minutes BETWEEN 0 AND 525600),
  ADD COLUMN horizon_days integer CHECK (horizon_days BETWEEN 1 AND 3650),
  ADD COLUMN max_bookings_per_day integer CHECK (max_bookings_per_day BETWEEN 1 AND 100000),
  ADD COLUMN max_bookings_per_customer_per_day integer CHECK (max_bookings_per_customer_per_day BETWEEN 1 AND 1000),
  ADD COLUMN max_bookings_per_customer_per_week integer CHECK (max_bookings_per_customer_per_week BETWEEN 1 AND 1000);


import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BOOKING_ACTIONS, type BookingMetrics } from '../booking/booking-metrics.js';
import type { MailMetrics, MailOutcome } from '../mail/mail-metrics.js';
import { createProposalMetrics } from '../proposals/proposal-metrics.js';
import type { ExposureMetrics } from '../scheduling/exposure.service.js';

// Each domain declares what it records (BookingMetrics, MailMetrics, ...); this file implements them with
// prom-client and the app injects the result, so no domain imports from http/.

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const bookings = new Counter({
    name: 'slotwise_bookings_total',
    help: 'Booking funnel steps: held, confirmed, cancelled, expired; failed attempts: conflict, full',
    labelNames: ['action'] as const,
    registers: [registry],
  });
  // Every action is present from the start, so rate() and ratios work before the first booking.
  for (const action of BOOKING_ACTIONS) bookings.inc({ action }, 0);
  const holdToConfirm = new Histogram({
    name: 'slotwise_hold_to_confirm_seconds',
    help: 'Time from placing a hold to confirming it (seed 003 hold_to_confirm_ms, in seconds)',
    buckets: [5, 15, 30, 60, 120, 300, 600, 1200],
    registers: [registry],
  });
  const exposedSlots = new Histogram({
    name: 'slotwise_exposed_slots_count',
    help: 'Slots shown per exposedSlots answer (seed 003 exposed_slots_count)',
    buckets: [0, 1, 2, 3, 4, 5],
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'slotwise_rate_limited_total',
    help: 'Operations refused with RATE_LIMITED, by bucket (read, booking)',
    labelNames: ['kind'] as const,
    registers: [registry],
  });

  const responseCache = new Counter({
    name: 'slotwise_response_cache_total',
    help: 'Availability queries by response cache outcome (hit, miss, bypass)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });

  const mailCounters: Record<MailOutcome, Counter<'kind' | 'method'>> = {
    sent: new Counter({
      name: 'slotwise_mail_sent_total',
      help: 'Mails delivered, by kind and ICS method',
      labelNames: ['kind', 'method'] as const,
      registers: [registry],
    }),
    retried: new Counter({
      name: 'slotwise_mail_retried_total',
      help: 'Mail attempts that failed transiently and were scheduled again, by kind and ICS method',
      labelNames: ['kind', 'method'] as const,
      registers: [registry],
    }),
    failed: new Counter({
      name: 'slotwise_mail_failed_total',
      help: 'Mails given up (permanent error or MAIL_MAX_ATTEMPTS reached), by kind and ICS method',
      labelNames: ['kind', 'method'] as const,
      registers: [registry],
    }),
  };
  let outboxDepthSource: (() => Promise<number>) | undefined;
  let lastOutboxDepth = 0;
  new Gauge({
    name: 'slotwise_outbox_depth',
    help: 'Outbox messages waiting to be sent (PENDING), read when scraped',
    registers: [registry],
    async collect() {
      // A database that cannot answer leaves the last value: the rest of the scrape still works.
      if (outboxDepthSource) this.set((lastOutboxDepth = await outboxDepthSource().catch(() => lastOutboxDepth)));
    },
  });
  const mail: MailMetrics = {
    recordMail: (outcome, labels) => mailCounters[outcome].inc(labels),
    measureOutboxDepth: (count) => {
      outboxDepthSource = count;
    },
  };

  const booking: BookingMetrics & ExposureMetrics = {
    recordBooking: (action, count = 1) => {
      if (count > 0) bookings.inc({ action }, count);
    },
    recordHoldToConfirm: (seconds) => holdToConfirm.observe(seconds),
    recordExposure: (slotCount) => exposedSlots.observe(slotCount),
  };

  return {
    registry,
    responseCache,
    httpRequests: new Counter({
      name: 'slotwise_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    }),
    graphqlDuration: new Histogram({
      name: 'slotwise_graphql_operation_seconds',
      help: 'GraphQL operation duration by operation name and outcome',
      labelNames: ['operation', 'outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    rateLimited,
    redisFallbacks: new Counter({
      name: 'slotwise_redis_fallback_total',
      help: 'Operations done in-process because Redis was unavailable, by component (ratelimit, exposure-cache, pubsub)',
      labelNames: ['component'] as const,
      registers: [registry],
    }),
    databaseReads: new Counter({
      name: 'slotwise_db_public_reads_total',
      help: 'Statements of public availability reads by where they ran (primary, or the DATABASE_READ_URL replica)',
      labelNames: ['target'] as const,
      registers: [registry],
    }),
    ...booking,
    ...createProposalMetrics(registry),
    ...mail,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

import type { Redis } from 'ioredis';
import type { ReadRouter } from './db/read-replica.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { BookingMetrics } from './booking/booking-metrics.js';
import type { ExposureMetrics } from './scheduling/exposure.service.js';
import type { PubSubHandle } from './live/pubsub.js';
import { AuthService } from './auth/auth.service.js';
import { SignInService } from './auth/sign-in.service.js';
import { SigningKeys } from './auth/signing-keys.js';
import { FallbackRateLimitStore, MemoryRateLimitStore, RedisRateLimitStore } from './ratelimit/store.js';
import { LocationsService } from './locations/locations.service.js';
import { ResourcesService } from './resources/resources.service.js';
import { SlotEvents } from './events/slot-events.js';
import { configurePii, piiKeysFromConfig } from './shared/pii.js';
import { SlotAvailabilityService } from './live/slot-availability.service.js';
import { GenerationService } from './scheduling/generation.service.js';
import { RulesService } from './scheduling/rules.service.js';
import { AvailabilityService } from './scheduling/availability.service.js';
import { ExposureService } from './scheduling/exposure.service.js';
import { FallbackExposureCache, MemoryExposureCache, PgExposureCache, RedisExposureCache } from './scheduling/exposure-cache.js';
import type { RedisFallback } from './redis/redis-fallback.js';
import { MemoryResponseCacheStore, RedisResponseCacheStore, ResponseCache } from './scheduling/response-cache.js';
import { SearchService } from './scheduling/search.service.js';
import { releaseExpiredHolds } from './booking/expiry.js';
import { BookingService } from './booking/booking.service.js';
import { IdempotencyService } from './idempotency/idempotency.service.js';
import { FormsService } from './forms/forms.service.js';
import { RegistrationService } from './forms/registration.service.js';
import { Outbox } from './mail/outbox.js';
import { ProposalService } from './proposals/proposal.service.js';
import { ProposalDecisions } from './proposals/proposal-decisions.js';
import { ProposalViews } from './proposals/proposal-views.js';
import { noProposalMetrics, type ProposalMetrics } from './proposals/proposal-metrics.js';
import { ImipService } from './imip/imip.service.js';
import { DeliveryStatusService } from './imip/delivery-status.js';
import { BookingMailer } from './calendar/booking-mail.js';
import { mailSettings } from './calendar/mail-settings.js';
import { listenForFreedPlaces } from './booking/booking-changes.js';
import { WaitlistOffers } from './waitlist/offers.js';
import { WaitlistService } from './waitlist/waitlist.service.js';
import { SessionsService } from './sessions/sessions.service.js';
import { LlmClient } from './forms/text/llm-client.js';
import { FormFromTextService } from './forms/text/form-from-text.js';
import { FormInsightsService } from './forms/text/form-insights.js';
import { WebhooksService } from './webhooks/webhooks.service.js';

/** One instance of each domain service, built once per process from its dependencies. */
export function createServices(deps: {
  config: Config;
  db: Database;
  pubsub: PubSubHandle['pubsub'];
  redis?: { client: Redis; fallback: RedisFallback };
  metrics?: BookingMetrics & ExposureMetrics & ProposalMetrics;
  /** DATABASE_READ_URL: the replica for public availability reads. */
  reads?: ReadRouter;
}) {
  const { prisma } = deps.db;
  // Contact data is encrypted deep inside booking transactions; the key is process-wide (one config per process).
  const pii = configurePii(piiKeysFromConfig(deps.config));
  const responseCache =
    deps.config.RESPONSE_CACHE === 'on'
      ? new ResponseCache(
          deps.redis
            ? new RedisResponseCacheStore(deps.redis.client, deps.config.RESPONSE_CACHE_TTL_MS)
            : new MemoryResponseCacheStore(deps.config.RESPONSE_CACHE_TTL_MS),
          deps.redis?.fallback,
          (err) => deps.redis?.fallback.fellBack('response-cache', err),
        )
      : undefined;
  const slotEvents = new SlotEvents(deps.pubsub, (scopes) => responseCache?.invalidate(scopes) ?? Promise.resolve());
  // Booking changes queue their mails in their own transactions (the Outbox itself is stateless).
  const bookingMail = new BookingMailer(new Outbox(deps.config), mailSettings(deps.config));
  // Freed places go to the waitlist inside the freeing transaction, whichever path freed them.
  listenForFreedPlaces(new WaitlistOffers(new Outbox(deps.config), mailSettings(deps.config), deps.config.WAITLIST_OFFER_MINUTES));
  const generation = new GenerationService(
    prisma,
    { maxSlots: deps.config.MAX_SLOTS_PER_GENERATION, horizonDays: deps.config.SLOT_HORIZON_DAYS },
    slotEvents,
  );
  const forms = new FormsService(prisma, slotEvents);
  const llm = new LlmClient(deps.config);
  // The server's own access tokens: app.ts loads the key (signingKeys.init) once migrations ran.
  const signingKeys = new SigningKeys(deps.config);
  return {
    signingKeys,
    signIn: new SignInService({
      sql: deps.db.sql,
      outbox: new Outbox(deps.config),
      keys: signingKeys,
      limits: signInLimits(deps.redis),
      config: deps.config,
    }),
    outbox: new Outbox(deps.config),
    bookingMail,
    sessions: new SessionsService(prisma, slotEvents),
    generation,
    rules: new RulesService(prisma, generation),
    auth: new AuthService(prisma, deps.config, signingKeys),
    locations: new LocationsService(prisma, generation, slotEvents),
    resources: new ResourcesService(prisma, slotEvents),
    slotEvents,
    responseCache,
    bookings: new BookingService(deps.db, deps.config, slotEvents, bookingMail, undefined, deps.metrics),
    slotAvailability: new SlotAvailabilityService(prisma, deps.pubsub, { bufferSize: deps.config.LIVE_SUBSCRIBER_BUFFER }),
    availability: new AvailabilityService(deps.db.sql, undefined, deps.reads),
    exposure: new ExposureService(prisma, deps.db.sql, {
      cache: deps.redis
        ? new FallbackExposureCache(new RedisExposureCache(deps.redis.client), new MemoryExposureCache(), deps.redis.fallback)
        : deps.db.kind === 'postgres'
          ? new PgExposureCache(deps.db.sql)
          : new MemoryExposureCache(),
      slotEvents,
      releaseExpiredHolds: (options) => releaseExpiredHolds(deps.db.sql, options),
      metrics: deps.metrics,
    }),
    search: new SearchService(prisma),
    idempotency: new IdempotencyService(deps.db.sql, { pii }),
    forms,
    formsFromText: new FormFromTextService(prisma, forms, llm, deps.config),
    formInsights: new FormInsightsService(prisma, forms, llm, deps.config),
    waitlist: new WaitlistService(deps.db.sql, new Outbox(deps.config), mailSettings(deps.config)),
    webhooks: new WebhooksService(deps.db.sql, deps.config),
    registrations: new RegistrationService(prisma, deps.db.sql, slotEvents, bookingMail, deps.metrics),
    ...proposalServices(deps, slotEvents, bookingMail),
  };
}

/** Reschedule proposals and inbound calendar mail (issue 13); Outbox and SearchService are stateless, so they get their own. */
function proposalServices(deps: Parameters<typeof createServices>[0], slotEvents: SlotEvents, bookingMail: BookingMailer) {
  const proposals = new ProposalService({
    db: deps.db,
    config: deps.config,
    slotEvents,
    outbox: new Outbox(deps.config),
    bookingMail,
    metrics: deps.metrics,
  });
  return {
    proposals,
    proposalDecisions: new ProposalDecisions(proposals),
    proposalViews: new ProposalViews(proposals, new SearchService(deps.db.prisma)),
    imip: new ImipService(proposals, deps.config),
    deliveryStatus: new DeliveryStatusService(deps.db.sql, deps.metrics ?? noProposalMetrics),
  };
}

/** Hour windows for sign-in requests: shared through Redis when there is one, else per process. */
function signInLimits(redis: Parameters<typeof createServices>[0]['redis']) {
  const HOUR_MS = 3_600_000;
  const local = new MemoryRateLimitStore(HOUR_MS);
  return redis ? new FallbackRateLimitStore(new RedisRateLimitStore(redis.client, HOUR_MS, 'slotwise:signin:'), local, redis.fallback) : local;
}

export type Services = ReturnType<typeof createServices>;

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Slotwise } from './app.js';
import { checkReadiness } from './http/health.js';
import { metricsAllowed } from './http/metrics-access.js';
import { requestIdFrom } from './http/request-id.js';
import { requestScope } from './logger.js';
import { JobRunner } from './jobs.js';
import { attachGraphQLWs } from './live/ws-server.js';
import { ImapPoller } from './imip/imap-poller.js';
import { MAIL_POLL_INTERVAL_MS, mailDeliveryFromConfig } from './mail/delivery.js';
import { eventBusRelayFromConfig, RELAY_POLL_INTERVAL_MS } from './events/event-bus.js';
import { WEBHOOK_CHANGES_CHANNEL, WEBHOOK_POLL_INTERVAL_MS, webhookDeliveryFromConfig } from './webhooks/webhook-delivery.js';
import { workerId } from './cluster.js';
import { listenForNotifications } from './db/listen.js';
import { MAIL_INTENTS_CHANNEL } from './calendar/booking-mail.js';
import { OUTBOX_CHANNEL } from './mail/outbox.js';
import { DOMAIN_EVENTS_CHANNEL } from './events/domain-events.js';
import { deleteExpiredWindows } from './ratelimit/store.js';
import { deleteExpiredExposures } from './scheduling/exposure-cache.js';

/** Extra HTTP routes served beside /graphql (public pages add theirs here). */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

export interface RunningServer {
  url: string;
  port: number;
  jobs: JobRunner;
  stop(): Promise<void>;
}

/** Listens over HTTP and WebSocket, runs background jobs, and stops gracefully. */
export async function startServer(app: Slotwise, options: { port?: number; host?: string; routes?: RouteHandler[] } = {}): Promise<RunningServer> {
  const { log, metrics } = app;
  let shuttingDown = false;
  const readinessDeps = { db: app.db, pingRedis: app.pingRedis, isShuttingDown: () => shuttingDown };
  // Under WORKERS > 1: which worker answered (operators and tests tell them apart by it).
  const worker = workerId();

  const httpServer = createServer((req, res) => {
    const requestId = requestIdFrom(req.headers['x-request-id'] as string | undefined);
    req.headers['x-request-id'] = requestId;
    res.setHeader('x-request-id', requestId);
    if (worker !== undefined) res.setHeader('x-slotwise-worker', String(worker));
    const url = new URL(req.url ?? '/', 'http://localhost');
    res.on('finish', () => {
      metrics.httpRequests.inc({ route: routeLabel(url.pathname), status: String(res.statusCode) });
      // During shutdown a keep-alive connection that just went idle is closed at once, not after its timeout.
      if (shuttingDown) setImmediate(() => httpServer.closeIdleConnections());
    });
    requestScope.run({ requestId }, () => {
      handle(req, res, url).catch((err) => {
        log.error({ err }, 'request failed');
        if (res.destroyed) return;
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'internal error', requestId }));
      });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL) {
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (url.pathname === '/readyz') {
      const readiness = await checkReadiness(readinessDeps);
      return sendJson(res, readiness.ok ? 200 : 503, readiness);
    }
    if (url.pathname === '/metrics') {
      if (!metricsAllowed(req, app.config.METRICS_TOKEN)) {
        res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer' });
        return res.end('metrics need the METRICS_TOKEN bearer token');
      }
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      return res.end(await metrics.registry.metrics());
    }
    if (url.pathname === '/') {
      res.writeHead(302, { location: '/graphql' });
      return res.end();
    }
    // No extra route serves /graphql: its requests skip asking each of them (an await apiece).
    if (url.pathname !== app.yoga.graphqlEndpoint) for (const route of options.routes ?? []) if (await route(req, res, url)) return;
    return app.yoga(req, res);
  }

  // Explicit, not whatever this Node version defaults to: a client that sends its headers or its
  // body slowly loses its socket after these (responses, SSE streams included, are not limited), and
  // an idle keep-alive connection is kept past a load balancer's own idle timeout (config.ts).
  httpServer.headersTimeout = app.config.HTTP_HEADERS_TIMEOUT_MS;
  httpServer.requestTimeout = app.config.HTTP_REQUEST_TIMEOUT_MS;
  httpServer.keepAliveTimeout = app.config.HTTP_KEEP_ALIVE_TIMEOUT_MS;
  // The port first: a process that cannot listen starts nothing else (no jobs running where nobody
  // can reach it). WebSocket upgrades are attached in the same tick as the listen callback, before
  // any connection is read.
  const [host, wantedPort] = [options.host ?? app.config.HOST, options.port ?? app.config.PORT];
  await new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) => reject(new ListenError(host, wantedPort, err));
    httpServer.once('error', failed);
    httpServer.listen(wantedPort, host, () => {
      httpServer.off('error', failed);
      resolve();
    });
  });
  const graphqlWs = attachGraphQLWs(app, httpServer);

  const jobs = new JobRunner(log);
  jobs.every('hold-expiry', 5_000, () => app.services.bookings.releaseExpiredHolds());
  jobs.every('idempotency-cleanup', 10 * 60_000, () => app.services.idempotency.deleteExpired());
  // Without Redis, rate-limit windows and exposures are shared through PostgreSQL: ended ones are swept.
  if (app.db.kind === 'postgres' && !app.redis) {
    jobs.every('shared-state-cleanup', 60_000, () => Promise.all([deleteExpiredWindows(app.db.sql), deleteExpiredExposures(app.db.sql)]));
  }
  // A pass over every scope hourly, in bounded steps each minute; the first starts right away. Safe on
  // many instances (per-scope advisory locks).
  jobs.every('slot-horizon', 60_000, () => app.services.generation.horizonStep());
  // Optional: calendar replies from an IMAP mailbox, through the same ingestor as POST /inbound/mail.
  if (app.config.IMAP_URL) {
    const poller = new ImapPoller(app.config, app.services.imip, log);
    jobs.every('imap-poll', app.config.IMAP_POLL_SECONDS * 1000, () => poller.pollOnce());
  }
  // Every second on every instance, and at once when a transaction that queued mail commits (woken at
  // commit, below); claims are FOR UPDATE SKIP LOCKED with a lease (src/mail/delivery.ts).
  const mailDelivery = mailDeliveryFromConfig(app);
  metrics.measureOutboxDepth(() => mailDelivery.depth());
  const mailJob = jobs.every('mail-delivery', MAIL_POLL_INTERVAL_MS, () => mailDelivery.runOnce());
  // Booking mails are rendered after their change commits (src/calendar/booking-mail.ts), woken by the
  // change, else every second; a failed intent is logged and tried again later. A woken run first
  // lets the intents of concurrent bookings gather, so a busy server renders them in batches.
  const renderJob = jobs.every('booking-mail', MAIL_POLL_INTERVAL_MS, async () => {
    await new Promise((resolve) => setTimeout(resolve, MAIL_RENDER_GATHER_MS));
    const run = await app.services.bookingMail.renderQueued(app.db.sql);
    if (run.failed) log.warn({ failed: run.failed, rendered: run.rendered }, 'booking mails could not be rendered; they are tried again');
  });
  // Webhooks the same way: deliveries are written with the events (trigger), claimed after commit.
  const webhookDelivery = webhookDeliveryFromConfig(app);
  const webhookJob = jobs.every('webhook-delivery', WEBHOOK_POLL_INTERVAL_MS, () => webhookDelivery.runOnce());
  // EVENT_BUS_URL: events relayed to NATS JetStream or RabbitMQ, one instance at a time (src/events/event-bus.ts).
  const relay = eventBusRelayFromConfig(app);
  const relayJob = relay && jobs.every('event-bus-relay', RELAY_POLL_INTERVAL_MS, () => relay.runOnce());
  // Each job is woken only by what gives it work: a booking's commit wakes the renderer, whose commit
  // wakes delivery (a booking does not send the delivery job looking for mail not yet rendered).
  const wakeups = listenForNotifications(
    app.db.sql,
    app.config.DATABASE_URL,
    {
      [MAIL_INTENTS_CHANNEL]: () => renderJob.nudge(),
      [OUTBOX_CHANNEL]: () => mailJob.nudge(),
      [DOMAIN_EVENTS_CHANNEL]: () => {
        if (webhookDelivery.wantsEvents()) webhookJob.nudge();
        relayJob?.nudge();
      },
      [WEBHOOK_CHANGES_CHANNEL]: () => {
        webhookDelivery.changed();
        webhookJob.nudge();
      },
    },
    log,
  );

  const port = (httpServer.address() as AddressInfo).port;
  const url = `http://${options.host === '0.0.0.0' || !options.host ? '127.0.0.1' : options.host}:${port}`;
  log.info({ port, database: app.db.kind, redis: Boolean(app.redis), worker }, `Slotwise listening on ${url}/graphql`);

  return {
    url,
    port,
    jobs,
    async stop() {
      if (shuttingDown) return;
      shuttingDown = true;
      // Stop accepting; let in-flight requests finish (bounded), then close sockets and the database.
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      // Open streams end, telling their clients to subscribe again (SSE connections then close as idle);
      // a turn of the event loop lets the WebSocket ones send that before their sockets close.
      app.endSubscriptions();
      httpServer.closeIdleConnections();
      await new Promise((resolve) => setImmediate(resolve));
      await graphqlWs.close();
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, app.config.SHUTDOWN_TIMEOUT_MS).unref());
      await Promise.race([closed, timeout]);
      httpServer.closeAllConnections();
      await wakeups.close();
      await jobs.stop();
      mailDelivery.transport.close();
      await relay?.close();
      await app.close();
      log.info('stopped');
    },
  };
}

/** The server could not listen (the port is taken, or not the process's to use): the process stops with this one line. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  constructor(host: string, port: number, cause: NodeJS.ErrnoException) {
    const why = cause.code === 'EADDRINUSE' ? 'the address is in use (another server on this port?)' : cause.message;
    super(`Cannot listen on ${host}:${port}: ${why}; set PORT or HOST`, { cause });
  }
}

/** How long a woken booking-mail run waits for more intents before rendering (mail latency it adds). */
const MAIL_RENDER_GATHER_MS = 100;

function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function routeLabel(pathname: string): string {
  return pathname.split('/').slice(0, 2).join('/') || '/';
}

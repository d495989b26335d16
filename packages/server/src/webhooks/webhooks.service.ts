import type { Config } from '../config.js';
import type { SqlQuery, SqlRunner } from '../db/database.js';
import { notifyAtCommit } from '../db/listen.js';
import { NotFoundError, ValidationError } from '../shared/errors.js';
import { pii } from '../shared/pii.js';
import { checkHost, hostOf, PrivateAddressError } from './address-guard.js';
import { newWebhookSecret } from './signing.js';
import { WEBHOOK_CHANGES_CHANNEL } from './webhook-delivery.js';
import { deleteEndpoint, insertEndpoint, requeueDelivery, setEndpointSecret, updateEndpoint } from './webhooks.store.js';

/** The event types an endpoint may subscribe to; `<aggregate>.*` takes all of that aggregate's, present and future. */
export const WEBHOOK_EVENT_TYPES = [
  'booking.held',
  'booking.confirmed',
  'booking.rescheduled',
  'booking.cancelled',
  'booking.expired',
  'registration.created',
  'proposal.created',
  'proposal.approved',
  'proposal.declined',
  'proposal.superseded',
  'proposal.failed',
  'proposal.expired',
] as const;
const WILDCARD = /^(booking|registration|proposal|waitlist)\.\*$/;

export interface WebhookInput {
  url?: string | null;
  events?: string[] | null;
  description?: string | null;
  enabled?: boolean | null;
}

/** Admin management of webhook endpoints (the resolvers check the role). */
export class WebhooksService {
  now = () => new Date();

  constructor(
    private readonly db: SqlRunner,
    private readonly config: Config,
  ) {}

  /** A new endpoint and its signing secret, which is returned this once. */
  async create(input: { url: string; events: string[]; description?: string | null }): Promise<{ id: string; secret: string }> {
    const url = await this.checkUrl(input.url);
    const eventTypes = checkEvents(input.events);
    const secret = newWebhookSecret();
    const id = await this.changing((tx) =>
      insertEndpoint(tx, {
        url,
        eventTypes,
        description: checkDescription(input.description),
        secret: pii().encrypt(secret),
        now: this.now(),
      }),
    );
    return { id, secret };
  }

  async update(id: string, input: WebhookInput): Promise<void> {
    const change = {
      url: input.url != null ? await this.checkUrl(input.url) : undefined,
      eventTypes: input.events != null ? checkEvents(input.events) : undefined,
      description: input.description !== undefined ? checkDescription(input.description) : undefined,
      enabled: input.enabled ?? undefined,
    };
    if (!(await this.changing((tx) => updateEndpoint(tx, id, change, this.now())))) throw new NotFoundError('WebhookEndpoint', id);
  }

  async delete(id: string): Promise<void> {
    if (!(await deleteEndpoint(this.db, id))) throw new NotFoundError('WebhookEndpoint', id);
  }

  /** A new signing secret, returned this once; the old one stops signing at once. */
  async rotateSecret(id: string): Promise<string> {
    const secret = newWebhookSecret();
    if (!(await setEndpointSecret(this.db, id, pii().encrypt(secret), this.now()))) throw new NotFoundError('WebhookEndpoint', id);
    return secret;
  }

  /** Sends a delivery again (same webhook-id and body), whatever its state. */
  async replay(deliveryId: string): Promise<void> {
    if (!(await this.changing((tx) => requeueDelivery(tx, deliveryId, this.now())))) throw new NotFoundError('WebhookDelivery', deliveryId);
  }

  /** A change that may give the delivery worker work: it wakes this process's worker at commit. */
  private changing<T>(fn: (tx: SqlQuery) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      const result = await fn(tx);
      await notifyAtCommit(tx, WEBHOOK_CHANGES_CHANNEL);
      return result;
    });
  }

  /** http(s), no credentials, and (unless WEBHOOK_ALLOW_PRIVATE_NETWORKS) a host that resolves to public addresses only. */
  private async checkUrl(raw: string): Promise<string> {
    const field = ['input', 'url'];
    let url: URL;
    try {
      url = new URL(raw.trim());
    } catch {
      throw ValidationError.field(field, 'is not a valid URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw ValidationError.field(field, 'must be an http:// or https:// URL');
    if (url.username || url.password) throw ValidationError.field(field, 'must not contain credentials');
    if (url.href.length > 2000) throw ValidationError.field(field, 'must be at most 2000 characters');
    try {
      await checkHost(hostOf(url), this.config.WEBHOOK_ALLOW_PRIVATE_NETWORKS);
    } catch (error) {
      if (error instanceof PrivateAddressError)
        throw ValidationError.field(field, `resolves to a private or loopback address (${error.address}); refused`);
      throw ValidationError.field(field, `host ${url.hostname} cannot be resolved`);
    }
    return url.href;
  }
}

function checkEvents(events: string[]): string[] {
  const list = [...new Set(events.map((e) => e.trim()))];
  if (!list.length) throw ValidationError.field(['input', 'events'], 'name at least one event type');
  const unknown = list.filter((e) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(e) && !WILDCARD.test(e));
  if (unknown.length)
    throw ValidationError.field(
      ['input', 'events'],
      `unknown event type ${unknown.join(', ')}; known: ${WEBHOOK_EVENT_TYPES.join(', ')}, or <booking|registration|proposal|waitlist>.*`,
    );
  return list;
}

function checkDescription(description: string | null | undefined): string | null {
  const text = description?.trim() || null;
  if (text && text.length > 500) throw ValidationError.field(['input', 'description'], 'must be at most 500 characters');
  return text;
}

import { builder, connectionNames, nodeVisibility } from '../builder.js';
import { WebhookDeliveryStatus } from '../generated/prisma/enums.js';
import { hasAnyRole } from '../shared/actor.js';
import { parseGlobalId } from '../shared/ids.js';
import { mustExist } from '../db/exists.js';

// Webhook endpoints, their secrets and deliveries: admins only (issue 19).
const ADMIN = { roles: ['admin' as const] };
nodeVisibility.set('WebhookEndpoint', (_w, ctx) => hasAnyRole(ctx.actor, ADMIN.roles));
nodeVisibility.set('WebhookDelivery', (_d, ctx) => hasAnyRole(ctx.actor, ADMIN.roles));

const WebhookDeliveryStatusEnum = builder.enumType(WebhookDeliveryStatus, {
  name: 'WebhookDeliveryStatus',
  description: 'PENDING: waiting, in flight or between retries. SUCCEEDED: the receiver answered 2xx. FAILED: given up after WEBHOOK_MAX_ATTEMPTS.',
});

builder.prismaNode('WebhookEndpoint', {
  id: { field: 'id' },
  authScopes: ADMIN,
  description: 'A URL that receives signed POSTs (Standard Webhooks) for the events it subscribes to.',
  fields: (t) => ({
    url: t.exposeString('url'),
    description: t.exposeString('description', { nullable: true }),
    events: t.exposeStringList('eventTypes', { description: 'Event types (booking.confirmed) or whole aggregates (proposal.*).' }),
    enabled: t.exposeBoolean('enabled', { description: 'Disabled endpoints get no new deliveries; their pending ones wait until enabled again.' }),
    disabledReason: t.exposeString('disabledReason', { nullable: true }),
    disabledAt: t.expose('disabledAt', { type: 'DateTime', nullable: true }),
    failingSince: t.expose('failingSince', {
      type: 'DateTime',
      nullable: true,
      description: 'The first failed attempt since the last success; null while healthy.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.prismaObject('WebhookAttempt', {
  description: 'One attempt of a delivery: the delivery log.',
  fields: (t) => ({
    attempt: t.exposeInt('attempt'),
    statusCode: t.exposeInt('statusCode', {
      nullable: true,
      description: "The receiver's HTTP status; null when there was no response (refused, timed out, blocked address).",
    }),
    error: t.exposeString('error', { nullable: true }),
    durationMs: t.exposeInt('durationMs'),
    attemptedAt: t.expose('attemptedAt', { type: 'DateTime' }),
  }),
});

builder.prismaNode('WebhookDelivery', {
  id: { field: 'id' },
  authScopes: ADMIN,
  description: 'One event for one endpoint, with every attempt to deliver it.',
  fields: (t) => ({
    webhookId: t.exposeString('id', { description: 'The webhook-id header: the same on every attempt and replay.' }),
    endpoint: t.relation('endpoint'),
    eventId: t.exposeString('eventId'),
    eventType: t.exposeString('eventType'),
    status: t.expose('status', { type: WebhookDeliveryStatusEnum }),
    attempts: t.exposeInt('attempts', { description: 'Attempts started (reset to 0 by replayWebhookDelivery).' }),
    lastStatusCode: t.exposeInt('lastStatusCode', { nullable: true }),
    lastError: t.exposeString('lastError', { nullable: true }),
    dueAt: t.expose('dueAt', { type: 'DateTime', description: 'When the next attempt is due (while PENDING).' }),
    deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    log: t.relation('attemptLog', { query: { orderBy: [{ attemptedAt: 'asc' }, { id: 'asc' }] }, description: 'Every attempt, oldest first.' }),
  }),
});

interface WithSecret {
  id: string;
  secret: string;
}

const WebhookWithSecret = builder.objectRef<WithSecret>('WebhookWithSecret').implement({
  fields: (t) => ({
    secret: t.exposeString('secret', { description: 'The signing secret (whsec_...). Shown this once: store it now.' }),
    webhook: t.prismaField({
      type: 'WebhookEndpoint',
      resolve: (query, w, _args, ctx) => ctx.db.prisma.webhookEndpoint.findUniqueOrThrow({ ...query, where: { id: w.id } }),
    }),
  }),
});

const DeletedWebhook = builder.objectRef<{ id: string }>('DeletedWebhook').implement({
  fields: (t) => ({ id: t.globalID({ resolve: (w) => ({ type: 'WebhookEndpoint', id: w.id }) }) }),
});

builder.queryField('webhooks', (t) =>
  t.prismaConnection(
    {
      type: 'WebhookEndpoint',
      cursor: 'id',
      description: 'Webhook endpoints, oldest first (admin).',
      authScopes: ADMIN,
      totalCount: (_root, _args, ctx) => ctx.db.prisma.webhookEndpoint.count(),
      resolve: (query, _root, _args, ctx) => ctx.db.prisma.webhookEndpoint.findMany({ ...query, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }),
    },
    ...connectionNames('WebhookEndpoint'),
  ),
);

function deliveriesWhere(args: { webhookId?: string | number | null; status?: WebhookDeliveryStatus | null }) {
  const endpointId = args.webhookId ? parseGlobalId(String(args.webhookId), 'WebhookEndpoint', ['webhookId']) : undefined;
  return { ...(endpointId ? { endpointId } : {}), ...(args.status ? { status: args.status } : {}) };
}

builder.queryField('webhookDeliveries', (t) =>
  t.prismaConnection(
    {
      type: 'WebhookDelivery',
      cursor: 'id',
      description: 'The delivery log, newest first (admin); optionally of one endpoint or in one state.',
      authScopes: ADMIN,
      errors: {},
      args: { webhookId: t.arg.id(), status: t.arg({ type: WebhookDeliveryStatusEnum }) },
      totalCount: (_root, args, ctx) => ctx.db.prisma.webhookDelivery.count({ where: deliveriesWhere(args) }),
      resolve: async (query, _root, args, ctx) => {
        const where = deliveriesWhere(args);
        await mustExist(ctx.db.prisma, 'WebhookEndpoint', where.endpointId);
        return ctx.db.prisma.webhookDelivery.findMany({ ...query, where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
      },
    },
    ...connectionNames('WebhookDelivery'),
  ),
);

const CreateWebhookInput = builder.inputType('CreateWebhookInput', {
  fields: (t) => ({
    url: t.string({ required: true, description: 'http(s); must resolve to public addresses unless WEBHOOK_ALLOW_PRIVATE_NETWORKS=true.' }),
    events: t.stringList({
      required: true,
      description:
        'booking.held, booking.confirmed, booking.rescheduled, booking.cancelled, booking.expired, registration.created, proposal.*, waitlist.*, ...',
    }),
    description: t.string(),
  }),
});

const UpdateWebhookInput = builder.inputType('UpdateWebhookInput', {
  description: 'Only the fields given change. enabled: true turns a disabled endpoint back on (its pending deliveries resume in order).',
  fields: (t) => ({
    id: t.id({ required: true }),
    url: t.string(),
    events: t.stringList(),
    description: t.string(),
    enabled: t.boolean(),
  }),
});

const endpointId = (id: string | number, path: string[]) => parseGlobalId(String(id), 'WebhookEndpoint', path);

builder.mutationField('createWebhook', (t) =>
  t.field({
    type: WebhookWithSecret,
    description: 'Registers a webhook endpoint (admin). The answer carries its signing secret, shown this once.',
    authScopes: ADMIN,
    errors: {},
    args: { input: t.arg({ type: CreateWebhookInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.webhooks.create(input),
  }),
);

builder.mutationField('updateWebhook', (t) =>
  t.prismaField({
    type: 'WebhookEndpoint',
    authScopes: ADMIN,
    errors: {},
    args: { input: t.arg({ type: UpdateWebhookInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const id = endpointId(input.id, ['input', 'id']);
      await ctx.services.webhooks.update(id, input);
      return ctx.db.prisma.webhookEndpoint.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);

builder.mutationField('deleteWebhook', (t) =>
  t.field({
    type: DeletedWebhook,
    description: 'Deletes the endpoint with its deliveries and their log (admin).',
    authScopes: ADMIN,
    errors: {},
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const id = endpointId(args.id, ['id']);
      await ctx.services.webhooks.delete(id);
      return { id };
    },
  }),
);

builder.mutationField('rotateWebhookSecret', (t) =>
  t.field({
    type: WebhookWithSecret,
    description: 'Replaces the signing secret (admin); the new one is shown this once and signs every attempt from now on.',
    authScopes: ADMIN,
    errors: {},
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const id = endpointId(args.id, ['id']);
      return { id, secret: await ctx.services.webhooks.rotateSecret(id) };
    },
  }),
);

builder.mutationField('replayWebhookDelivery', (t) =>
  t.prismaField({
    type: 'WebhookDelivery',
    description: 'Sends a delivery again, due now with attempts from 0 and the same webhook-id and body (admin).',
    authScopes: ADMIN,
    errors: {},
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const id = parseGlobalId(String(args.id), 'WebhookDelivery', ['id']);
      await ctx.services.webhooks.replay(id);
      return ctx.db.prisma.webhookDelivery.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);

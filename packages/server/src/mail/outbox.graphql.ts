import { builder, connectionNames, nodeVisibility } from '../builder.js';
import { hasAnyRole } from '../shared/actor.js';
import { OutboxStatus } from '../generated/prisma/enums.js';
import { parseGlobalId } from '../shared/ids.js';
import { pii } from '../shared/pii.js';
import { retryOutboxMessage } from './outbox-admin.js';
import { readMailContent } from './outbox.js';

// The staff view of outbound mail: admins only, since it shows every recipient's address.
const ADMIN = { roles: ['admin' as const] };
nodeVisibility.set('OutboxMessage', (_message, ctx) => hasAnyRole(ctx.actor, ADMIN.roles));

const OutboxStatusEnum = builder.enumType(OutboxStatus, {
  name: 'OutboxStatus',
  description: 'PENDING: waiting or between retries. SENT: accepted by the mail server. FAILED: given up (see lastError). CANCELLED: withdrawn.',
});

builder.prismaNode('OutboxMessage', {
  id: { field: 'id' },
  authScopes: ADMIN,
  description: 'One outbound mail and its delivery state.',
  fields: (t) => ({
    kind: t.exposeString('kind', { description: 'What the mail is about: invitation, update, cancellation, reminder, registration, ...' }),
    recipient: t.string({ resolve: (m) => pii().decrypt(m.recipient) }),
    subject: t.string({ resolve: (m) => readMailContent(m.content).subject }),
    method: t.exposeString('icsMethod', { nullable: true, description: 'The iCalendar METHOD of an invite (REQUEST, CANCEL, ...).' }),
    uid: t.exposeString('icsUid', { nullable: true }),
    sequence: t.exposeInt('icsSequence', { nullable: true }),
    status: t.expose('status', { type: OutboxStatusEnum }),
    attempts: t.exposeInt('attempts', { description: 'Delivery attempts started (reset to 0 by retryOutboxMessage).' }),
    lastError: t.exposeString('lastError', { nullable: true }),
    dueAt: t.expose('dueAt', { type: 'DateTime', description: 'When the next attempt is due (while PENDING).' }),
    sentAt: t.expose('sentAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    messageId: t.exposeString('messageId', { description: 'The Message-ID header, the same on every copy sent.' }),
  }),
});

builder.queryField('outboxMessages', (t) =>
  t.prismaConnection(
    {
      type: 'OutboxMessage',
      cursor: 'id',
      description: 'Outbound mail, newest first (admin).',
      authScopes: ADMIN,
      args: { status: t.arg({ type: OutboxStatusEnum }) },
      totalCount: (_root, args, ctx) => ctx.db.prisma.outboxMessage.count({ where: args.status ? { status: args.status } : {} }),
      resolve: (query, _root, args, ctx) =>
        ctx.db.prisma.outboxMessage.findMany({
          ...query,
          where: args.status ? { status: args.status } : {},
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        }),
    },
    ...connectionNames('OutboxMessage'),
  ),
);

builder.mutationField('retryOutboxMessage', (t) =>
  t.prismaField({
    type: 'OutboxMessage',
    description: 'Re-queues a FAILED mail: due now, attempts reset to 0 (admin).',
    authScopes: ADMIN,
    errors: {},
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const id = parseGlobalId(String(args.id), 'OutboxMessage', ['id']);
      await retryOutboxMessage(ctx.db.sql, id, new Date());
      return ctx.db.prisma.outboxMessage.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);

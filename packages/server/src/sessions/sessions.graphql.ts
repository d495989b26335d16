import { builder } from '../builder.js';
import { parseGlobalId } from '../shared/ids.js';

const CreateSessionInput = builder.inputType('CreateSessionInput', {
  description: 'A one-off two-party session on a person with an email (the host): 30, 60 or 90 minutes.',
  fields: (t) => ({
    resourceId: t.id({ required: true }),
    startAt: t.field({ type: 'DateTime', required: true }),
    durationMinutes: t.int({ required: true, description: '30, 60 or 90.' }),
  }),
});

builder.mutationField('createSession', (t) =>
  t.prismaField({
    type: 'Slot',
    description:
      "Opens a session slot (capacity 1) a guest books with hold/confirm/book; both then get calendar invites. Managers, schedulers, or the host (the signed-in user whose email is the person's).",
    authScopes: { authenticated: true },
    errors: {},
    args: { input: t.arg({ type: CreateSessionInput, required: true }) },
    resolve: (_query, _root, { input }, ctx) =>
      ctx.services.sessions.create(
        {
          resourceId: parseGlobalId(String(input.resourceId), 'Resource', ['input', 'resourceId']),
          startAt: input.startAt,
          durationMinutes: input.durationMinutes,
        },
        ctx.actor!,
      ),
  }),
);

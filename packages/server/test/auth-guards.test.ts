import type { GraphQLObjectType } from 'graphql';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../src/schema.js';
import { createTestApp, type TestApp } from './kit/app.js';

/**
 * Root fields anyone may call. Making a field public is a decision: add it here in the same change.
 * (Node types guard themselves with their own authScopes, so `node`/`nodes` are open.)
 */
const PUBLIC_ROOT_FIELDS = [
  'Mutation.register',
  'Query.form',
  'Query.locations',
  'Query.me',
  'Query.node',
  'Query.nodes',
  'Query.resources',
  'Query.serverTime',
  'Subscription.serverTime',
  // Customers see availability without signing in.
  'Query.availability',
  'Query.availableDates',
  'Query.availabilityByDay',
  'Query.exposedSlots',
  'Query.searchAvailability',
  'Subscription.slotAvailability',
  // Customers book without an account; confirm, cancel, reschedule and read their booking with its
  // manage token (the service checks staff role, ownership or the token and answers NotFound otherwise).
  'Mutation.book',
  'Mutation.cancelBooking',
  'Mutation.confirm',
  'Mutation.hold',
  'Mutation.rescheduleBooking',
  'Mutation.updateBooking',
  'Query.booking',
  // No-login reschedule proposals: a token from a mail, or staff / the customer signed in (the service
  // checks the link or the role and answers LinkInvalidError / NotFound otherwise).
  'Mutation.approveProposal',
  'Mutation.declineProposal',
  'Mutation.proposeReschedule',
  // Passwordless sign-in: the mail's code or link, or a refresh token, is the credential.
  'Mutation.completeSignIn',
  'Mutation.refreshSession',
  'Mutation.requestSignIn',
  'Mutation.signOut',
  // Waitlists: anyone may wait for a full slot; leaving needs the leave token (or a staff role).
  'Mutation.joinWaitlist',
  'Mutation.leaveWaitlist',
];

type Scopes = Record<string, unknown> | ((...args: unknown[]) => unknown) | undefined;

/** Pothos keeps the field's options, including scope-auth's `authScopes`, in `extensions.pothosOptions`. */
function scopesOf(type: GraphQLObjectType, field: string): Scopes {
  const options = type.getFields()[field]!.extensions?.pothosOptions as { authScopes?: Scopes } | undefined;
  return options?.authScopes;
}

function rootFields(): { name: string; scopes: Scopes }[] {
  const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter((r) => r != null);
  return roots.flatMap((root) => Object.keys(root.getFields()).map((f) => ({ name: `${root.name}.${f}`, scopes: scopesOf(root, f) })));
}

describe('every root field declares authScopes', () => {
  const fields = rootFields();

  it('finds the root fields it checks', () => {
    expect(fields.map((f) => f.name)).toEqual(expect.arrayContaining(['Query.me', 'Mutation.createLocation', 'Subscription.serverTime']));
  });

  it('has no field without a guard', () => {
    const unguarded = fields.filter((f) => !f.scopes || (typeof f.scopes === 'object' && Object.keys(f.scopes).length === 0));
    expect(
      unguarded.map((f) => f.name),
      'root fields without authScopes',
    ).toEqual([]);
  });

  it('has public fields only where the allowlist says so', () => {
    const isPublic = (s: Scopes) => typeof s === 'object' && s.public === true;
    const publicFields = fields.filter((f) => isPublic(f.scopes)).map((f) => f.name);
    expect(
      publicFields.filter((f) => !PUBLIC_ROOT_FIELDS.includes(f)),
      'public root fields missing from PUBLIC_ROOT_FIELDS',
    ).toEqual([]);
    expect(
      PUBLIC_ROOT_FIELDS.filter((f) => !publicFields.includes(f)),
      'PUBLIC_ROOT_FIELDS entries that are not public (stale)',
    ).toEqual([]);
  });
});

describe('guards hold at run time', () => {
  let t: TestApp;
  let userToken: string;
  beforeAll(async () => {
    t = await createTestApp();
    userToken = await t.tokenFor(['user']);
  });
  afterAll(() => t.close());

  it.each([
    ['createLocation', `mutation { createLocation(input: { name: "X", timeZone: "UTC" }) { __typename } }`],
    ['createResource', `mutation { createResource(input: { locationId: "x", kind: ROOM, name: "X" }) { __typename } }`],
    ['createUser', `mutation { createUser(input: { email: "x@example.com" }) { __typename } }`],
    ['users', `{ users { id } }`],
  ])('%s refuses a user (FORBIDDEN) and the public (UNAUTHENTICATED)', async (_name, query) => {
    const asUser = await t.execute(query, {}, { token: userToken });
    expect(asUser.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const asPublic = await t.execute(query);
    expect(asPublic.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await t.app.db.prisma.location.count()).toBe(0);
  });

  it('authenticated-only fields refuse the public', async () => {
    const result = await t.execute(`{ myApiTokens { id } }`);
    expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('node lookups of guarded types answer null to the public, as an unknown id does', async () => {
    const user = await t.app.db.prisma.user.findFirstOrThrow();
    const result = await t.execute(`query ($id: ID!) { node(id: $id) { ... on User { email } } }`, { id: encodeGlobalID('User', user.id) });
    expect(result).toEqual({ data: { node: null } });
  });
});

import {
  getNamedType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  type GraphQLField,
  type GraphQLInputType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../src/schema.js';
import type { Role } from '../src/generated/prisma/enums.js';
import { createTestApp, type TestApp } from './kit/app.js';

/**
 * Who may call each root field, as the guard (authScopes) decides: one row per field, every role
 * allowed or not. A field added to the schema without a row fails this test; so does a guard that
 * lets in (or keeps out) someone its row does not say. Services may still refuse a caller the
 * guard let in (someone else's booking is NotFound): that is the services' tests' business.
 */
const CALLERS = ['anonymous', 'user', 'frontdesk', 'scheduler', 'manager', 'admin'] as const;
type Caller = (typeof CALLERS)[number];

const EVERYONE: readonly Caller[] = CALLERS;
const SIGNED_IN: readonly Caller[] = ['user', 'frontdesk', 'scheduler', 'manager', 'admin'];
const STAFF: readonly Caller[] = ['frontdesk', 'scheduler', 'manager', 'admin'];
const PLANNERS: readonly Caller[] = ['scheduler', 'manager', 'admin'];
const MANAGERS: readonly Caller[] = ['manager', 'admin'];
const ADMIN: readonly Caller[] = ['admin'];

const MATRIX: Record<string, readonly Caller[]> = {
  'Query.availability': EVERYONE,
  'Query.waitlist': STAFF,
  'Query.webhookDeliveries': ADMIN,
  'Query.webhooks': ADMIN,
  'Mutation.addFormSchedule': PLANNERS,
  'Mutation.completeSignIn': EVERYONE,
  'Mutation.createWebhook': ADMIN,
  'Mutation.deleteWebhook': ADMIN,
  'Mutation.joinWaitlist': EVERYONE,
  'Mutation.leaveWaitlist': EVERYONE,
  'Mutation.refreshSession': EVERYONE,
  'Mutation.replayWebhookDelivery': ADMIN,
  'Mutation.requestSignIn': EVERYONE,
  'Mutation.rotateWebhookSecret': ADMIN,
  'Mutation.signOut': EVERYONE,
  'Mutation.updateBooking': EVERYONE,
  'Mutation.updateWebhook': ADMIN,
  'Query.availabilityRules': PLANNERS,
  'Query.availableDates': EVERYONE,
  'Query.availabilityByDay': EVERYONE,
  'Query.booking': EVERYONE,
  'Query.bookings': STAFF,
  'Query.exposedSlots': EVERYONE,
  'Query.form': EVERYONE,
  'Query.formAnalytics': STAFF,
  'Query.formInsights': STAFF,
  'Query.forms': STAFF,
  'Query.locations': EVERYONE,
  'Query.me': EVERYONE,
  'Query.myApiTokens': SIGNED_IN,
  'Query.myBookings': SIGNED_IN,
  'Query.node': EVERYONE,
  'Query.nodes': EVERYONE,
  'Query.outboxMessages': ADMIN,
  'Query.resources': EVERYONE,
  'Query.searchAvailability': EVERYONE,
  'Query.serverTime': EVERYONE,
  'Query.users': ADMIN,
  'Mutation.addFormSlot': PLANNERS,
  'Mutation.approveProposal': EVERYONE,
  'Mutation.book': EVERYONE,
  'Mutation.cancelBooking': EVERYONE,
  'Mutation.cancelFormSlot': PLANNERS,
  'Mutation.closeForm': PLANNERS,
  'Mutation.confirm': EVERYONE,
  'Mutation.createApiToken': SIGNED_IN,
  'Mutation.createAvailabilityRule': PLANNERS,
  'Mutation.createForm': PLANNERS,
  'Mutation.createFormFromText': PLANNERS,
  'Mutation.createLocation': MANAGERS,
  'Mutation.createResource': MANAGERS,
  'Mutation.createSession': SIGNED_IN,
  'Mutation.createUser': ADMIN,
  'Mutation.declineProposal': EVERYONE,
  'Mutation.deleteAvailabilityRule': PLANNERS,
  'Mutation.generateSlots': PLANNERS,
  'Mutation.hold': EVERYONE,
  'Mutation.proposeReschedule': EVERYONE,
  'Mutation.publishForm': PLANNERS,
  'Mutation.register': EVERYONE,
  'Mutation.rescheduleBooking': EVERYONE,
  'Mutation.retryOutboxMessage': ADMIN,
  'Mutation.revokeApiToken': SIGNED_IN,
  'Mutation.updateAvailabilityRule': PLANNERS,
  'Mutation.updateLocation': MANAGERS,
  'Mutation.updateResource': MANAGERS,
  'Subscription.serverTime': EVERYONE,
  'Subscription.slotAvailability': EVERYONE,
};

const roots = [schema.getQueryType()!, schema.getMutationType()!, schema.getSubscriptionType()!];
const rootFields = roots.flatMap((root) => Object.values(root.getFields()).map((field) => ({ root: root.name, field })));

/** A literal of the argument's type: the guard runs before any resolver, so any well-typed value will do. */
function literal(type: GraphQLInputType): string {
  if (isNonNullType(type)) return literal(type.ofType);
  if (isListType(type)) return `[${literal(type.ofType)}]`;
  if (isEnumType(type)) return type.getValues()[0]!.name;
  if (isInputObjectType(type)) {
    const required = Object.values(type.getFields()).filter((f) => isNonNullType(f.type) && f.defaultValue === undefined);
    return `{ ${required.map((f) => `${f.name}: ${literal(f.type)}`).join(', ')} }`;
  }
  const scalars: Record<string, string> = { Int: '1', Float: '1', Boolean: 'false', DateTime: '"2030-01-01T00:00:00Z"', Date: '"2030-01-01"' };
  return scalars[type.name] ?? '"x"';
}

function operationFor(root: string, field: GraphQLField<unknown, unknown>): string {
  const args = field.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined);
  const call = args.length ? `${field.name}(${args.map((a) => `${a.name}: ${literal(a.type)}`).join(', ')})` : field.name;
  const selection = isCompositeType(getNamedType(field.type)) ? ' { __typename }' : '';
  return `${root.toLowerCase()} { ${call}${selection} }`;
}

let t: TestApp;
const tokens = new Map<Caller, string | undefined>();
beforeAll(async () => {
  t = await createTestApp();
  tokens.set('anonymous', undefined);
  for (const caller of CALLERS.slice(1)) tokens.set(caller, await t.tokenFor([caller as Role]));
});
afterAll(() => t?.close());

type Outcome = 'allow' | 'deny';

/** What the guard said to one caller: deny when the field answered FORBIDDEN or UNAUTHENTICATED. */
async function outcomeOf(root: string, operation: string, token: string | undefined): Promise<Outcome> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: root === 'Subscription' ? 'text/event-stream' : 'application/json',
  };
  if (token) headers.authorization = `Bearer ${token}`;
  const abort = new AbortController();
  const response = await t.app.yoga.fetch('http://slotwise.test/graphql', {
    method: 'POST',
    headers,
    body: JSON.stringify({ query: operation }),
    signal: abort.signal,
  });
  let body: { errors?: { extensions?: { code?: string } }[] };
  if (root === 'Subscription') {
    // The first event is enough: a refusal, or the stream's first value.
    const reader = response.body!.getReader();
    let text = '';
    while (!/data: .+\n/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    abort.abort();
    await reader.cancel().catch(() => {});
    body = JSON.parse(/data: (.+)\n/.exec(text)![1]!) as typeof body;
  } else {
    body = (await response.json()) as typeof body;
  }
  const codes = (body.errors ?? []).map((e) => e.extensions?.code);
  expect(codes, `${operation}: an unexpected error`).not.toContain('INTERNAL_SERVER_ERROR');
  return codes.some((c) => c === 'FORBIDDEN' || c === 'UNAUTHENTICATED') ? 'deny' : 'allow';
}

describe('RBAC matrix: every root field x every caller', () => {
  it('has one row per root field, and no row for a field that does not exist', () => {
    const names = rootFields.map(({ root, field }) => `${root}.${field.name}`);
    expect(
      names.filter((n) => !(n in MATRIX)),
      'root fields without a row in MATRIX',
    ).toEqual([]);
    expect(
      Object.keys(MATRIX).filter((n) => !names.includes(n)),
      'MATRIX rows for fields that are gone',
    ).toEqual([]);
  });

  it('allows and denies exactly as the table says', async () => {
    const expected: string[] = [];
    const actual: string[] = [];
    for (const { root, field } of rootFields) {
      const name = `${root}.${field.name}`;
      const operation = operationFor(root, field);
      const outcomes = await Promise.all(CALLERS.map((caller) => outcomeOf(root, operation, tokens.get(caller))));
      expected.push(`${name}: ${CALLERS.map((c) => `${c}=${(MATRIX[name] ?? []).includes(c) ? 'allow' : 'deny'}`).join(' ')}`);
      actual.push(`${name}: ${CALLERS.map((c, i) => `${c}=${outcomes[i]}`).join(' ')}`);
    }
    expect(actual).toEqual(expected);
  }, 120_000);
});

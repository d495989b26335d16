import { randomUUID } from 'node:crypto';
import { getNamedType, isInputObjectType, type GraphQLInputType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOK, call } from './kit/documents.js';
import { fixtures, gid } from './kit/fixtures.js';
import { createTestApp, type TestApp } from './kit/app.js';
import { schema } from '../src/schema.js';

/**
 * Issue #16 item 7: an id of the right type that names nothing answers NotFoundError naming the
 * entity, on every root field that takes one (not a ValidationError, not an empty answer). Where a
 * field takes two ids, the other one names something real, so the unknown one is what is refused.
 * A root field that takes an id and has no row here fails the test, unless it is one of these:
 */
const NOT_HERE = [
  // FormSlotNotFoundError names every slot that is not the form's, known or not.
  'register(slotIds)',
  // A node the caller may not see, or that does not exist, is null.
  'node(id)',
  'nodes(ids)',
  // The subscription checks its scope with availability's loadScope (NotFoundError for an unknown
  // id), over a transport of its own: src/live/slot-availability.test.ts subscribes with one.
  'slotAvailability(formId)',
  'slotAvailability(locationId)',
  'slotAvailability(resourceId)',
];

let t: TestApp;
let locationId: string;
let resourceId: string;
let slotId: string;
let bookingId: string;
let manageToken: string;

const unknown = (type: string) => gid(type, randomUUID());
// A ValidationError's messages show in a failure's diff.
const NOT_FOUND = '__typename ... on NotFoundError { entity } ... on ValidationError { fieldErrors { path message } }';
const START = '2058-01-07T10:00:00Z';
const END = '2058-01-07T11:00:00Z';

beforeAll(async () => {
  t = await createTestApp();
  locationId = (await t.app.services.locations.create({ name: 'Known', timeZone: 'UTC' })).id;
  resourceId = (await t.app.services.resources.create({ locationId, kind: 'PERSON', name: 'Known person', capacity: 5 })).id;
  const [slot] = await fixtures(t.app.db.sql).slots({ locationId, resourceId, timeZone: 'UTC' }, [{ start: START, minutes: 60, capacity: 5 }]);
  slotId = slot!.id;
  const receipt = await call(t, BOOK, { slotId: gid('Slot', slotId), customer: { name: 'Known', email: 'known@example.com' } });
  bookingId = receipt.booking.id; // a global id already
  manageToken = receipt.manageToken;
});
afterAll(() => t?.close());

interface Case {
  field: string;
  entity: string;
  query: () => string;
}

const CASES: Case[] = [
  // Queries
  {
    field: 'availability(locationId)',
    entity: 'Location',
    query: () => `{ availability(locationId: "${unknown('Location')}", from: "${START}", to: "${END}") { ${NOT_FOUND} } }`,
  },
  {
    field: 'availability(resourceId)',
    entity: 'Resource',
    query: () => `{ availability(resourceId: "${unknown('Resource')}", from: "${START}", to: "${END}") { ${NOT_FOUND} } }`,
  },
  {
    field: 'availabilityByDay(locationId)',
    entity: 'Location',
    query: () => `{ availabilityByDay(locationId: "${unknown('Location')}", from: "${START}", to: "${END}") { ${NOT_FOUND} } }`,
  },
  {
    field: 'availabilityByDay(resourceId)',
    entity: 'Resource',
    query: () => `{ availabilityByDay(resourceId: "${unknown('Resource')}", from: "${START}", to: "${END}") { ${NOT_FOUND} } }`,
  },
  {
    field: 'availabilityByDay(formId)',
    entity: 'Form',
    query: () => `{ availabilityByDay(formId: "${unknown('Form')}", from: "${START}", to: "${END}") { ${NOT_FOUND} } }`,
  },
  {
    field: 'availabilityRules(locationId)',
    entity: 'Location',
    query: () => `{ availabilityRules(locationId: "${unknown('Location')}") { ${NOT_FOUND} } }`,
  },
  {
    field: 'availabilityRules(resourceId)',
    entity: 'Resource',
    query: () => `{ availabilityRules(resourceId: "${unknown('Resource')}") { ${NOT_FOUND} } }`,
  },
  {
    field: 'availability(formId)',
    entity: 'Form',
    query: () => `{ availability(formId: "${unknown('Form')}", from: "${START}", to: "${END}") { ${NOT_FOUND} } }`,
  },
  {
    field: 'availableDates(locationId)',
    entity: 'Location',
    query: () => `{ availableDates(locationId: "${unknown('Location')}", from: "2058-01-07", to: "2058-01-08") { ${NOT_FOUND} } }`,
  },
  {
    field: 'availableDates(formId)',
    entity: 'Form',
    query: () => `{ availableDates(formId: "${unknown('Form')}", from: "2058-01-07", to: "2058-01-08") { ${NOT_FOUND} } }`,
  },
  {
    field: 'availableDates(resourceId)',
    entity: 'Resource',
    query: () => `{ availableDates(resourceId: "${unknown('Resource')}", from: "2058-01-07", to: "2058-01-08") { ${NOT_FOUND} } }`,
  },
  { field: 'booking(id)', entity: 'Booking', query: () => `{ booking(id: "${unknown('Booking')}") { ${NOT_FOUND} } }` },
  { field: 'bookings(locationId)', entity: 'Location', query: () => `{ bookings(locationId: "${unknown('Location')}", first: 1) { ${NOT_FOUND} } }` },
  { field: 'bookings(resourceId)', entity: 'Resource', query: () => `{ bookings(resourceId: "${unknown('Resource')}", first: 1) { ${NOT_FOUND} } }` },
  {
    field: 'exposedSlots(locationId)',
    entity: 'Location',
    query: () => `{ exposedSlots(locationId: "${unknown('Location')}", date: "2058-01-07", sessionId: "s") { ${NOT_FOUND} } }`,
  },
  {
    field: 'exposedSlots(resourceId)',
    entity: 'Resource',
    query: () => `{ exposedSlots(resourceId: "${unknown('Resource')}", date: "2058-01-07", sessionId: "s") { ${NOT_FOUND} } }`,
  },
  { field: 'formAnalytics(formId)', entity: 'Form', query: () => `{ formAnalytics(formId: "${unknown('Form')}") { ${NOT_FOUND} } }` },
  { field: 'formInsights(formId)', entity: 'Form', query: () => `{ formInsights(formId: "${unknown('Form')}") { ${NOT_FOUND} } }` },
  { field: 'resources(locationId)', entity: 'Location', query: () => `{ resources(locationId: "${unknown('Location')}") { ${NOT_FOUND} } }` },
  {
    field: 'searchAvailability(resourceId)',
    entity: 'Resource',
    query: () => `{ searchAvailability(resourceId: "${unknown('Resource')}", from: "${START}", to: "${END}", durationMinutes: 30) { ${NOT_FOUND} } }`,
  },
  {
    field: 'searchAvailability(locationId)',
    entity: 'Location',
    query: () => `{ searchAvailability(locationId: "${unknown('Location')}", from: "${START}", to: "${END}", durationMinutes: 30) { ${NOT_FOUND} } }`,
  },
  { field: 'waitlist(resourceId)', entity: 'Resource', query: () => `{ waitlist(resourceId: "${unknown('Resource')}") { ${NOT_FOUND} } }` },
  { field: 'waitlist(slotId)', entity: 'Slot', query: () => `{ waitlist(slotId: "${unknown('Slot')}") { ${NOT_FOUND} } }` },
  {
    field: 'webhookDeliveries(webhookId)',
    entity: 'WebhookEndpoint',
    query: () => `{ webhookDeliveries(webhookId: "${unknown('WebhookEndpoint')}", first: 1) { ${NOT_FOUND} } }`,
  },
  // Mutations
  {
    field: 'addFormSchedule(formId)',
    entity: 'Form',
    query: () =>
      `mutation { addFormSchedule(formId: "${unknown('Form')}", schedule: { daysOfWeek: [1], startTime: "09:00", endTime: "10:00", slotMinutes: 30 }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'addFormSlot(formId)',
    entity: 'Form',
    query: () => `mutation { addFormSlot(formId: "${unknown('Form')}", input: { startAt: "${START}", endAt: "${END}" }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'approveProposal(proposalId)',
    entity: 'Proposal',
    query: () => `mutation { approveProposal(input: { proposalId: "${unknown('Proposal')}" }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'declineProposal(proposalId)',
    entity: 'Proposal',
    query: () => `mutation { declineProposal(input: { proposalId: "${unknown('Proposal')}" }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'book(slotId)',
    entity: 'Slot',
    query: () => `mutation { book(input: { slotId: "${unknown('Slot')}", customer: { name: "N", email: "n1@example.com" } }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'book(range.resourceId)',
    entity: 'Resource',
    query: () =>
      `mutation { book(input: { range: { resourceId: "${unknown('Resource')}", startAt: "${START}", endAt: "${END}" }, customer: { name: "N", email: "n2@example.com" } }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'hold(slotId)',
    entity: 'Slot',
    query: () => `mutation { hold(input: { slotId: "${unknown('Slot')}", customer: { name: "N", email: "n3@example.com" } }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'confirm(bookingId)',
    entity: 'Booking',
    query: () => `mutation { confirm(input: { bookingId: "${unknown('Booking')}" }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'cancelBooking(bookingId)',
    entity: 'Booking',
    query: () => `mutation { cancelBooking(input: { bookingId: "${unknown('Booking')}" }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'updateBooking(bookingId)',
    entity: 'Booking',
    query: () => `mutation { updateBooking(input: { bookingId: "${unknown('Booking')}", title: "x" }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'rescheduleBooking(bookingId)',
    entity: 'Booking',
    query: () => `mutation { rescheduleBooking(input: { bookingId: "${unknown('Booking')}", slotId: "${gid('Slot', slotId)}" }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'rescheduleBooking(slotId)',
    entity: 'Slot',
    query: () =>
      `mutation { rescheduleBooking(input: { bookingId: "${bookingId}", manageToken: "${manageToken}", slotId: "${unknown('Slot')}" }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'proposeReschedule(bookingId)',
    entity: 'Booking',
    query: () => `mutation { proposeReschedule(input: { bookingId: "${unknown('Booking')}", slotId: "${gid('Slot', slotId)}" }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'proposeReschedule(slotId)',
    entity: 'Slot',
    query: () => `mutation { proposeReschedule(input: { bookingId: "${bookingId}", slotId: "${unknown('Slot')}" }) { ${NOT_FOUND} } }`,
  },
  { field: 'cancelFormSlot(slotId)', entity: 'Slot', query: () => `mutation { cancelFormSlot(slotId: "${unknown('Slot')}") { ${NOT_FOUND} } }` },
  { field: 'closeForm(id)', entity: 'Form', query: () => `mutation { closeForm(id: "${unknown('Form')}") { ${NOT_FOUND} } }` },
  { field: 'publishForm(id)', entity: 'Form', query: () => `mutation { publishForm(id: "${unknown('Form')}") { ${NOT_FOUND} } }` },
  {
    field: 'createAvailabilityRule(locationId)',
    entity: 'Location',
    query: () =>
      `mutation { createAvailabilityRule(input: { locationId: "${unknown('Location')}", kind: WEEKLY, daysOfWeek: [1], startTime: "09:00", endTime: "10:00" }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'createAvailabilityRule(resourceId)',
    entity: 'Resource',
    query: () =>
      `mutation { createAvailabilityRule(input: { resourceId: "${unknown('Resource')}", kind: WEEKLY, daysOfWeek: [1], startTime: "09:00", endTime: "10:00" }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'updateAvailabilityRule(id)',
    entity: 'AvailabilityRule',
    query: () => `mutation { updateAvailabilityRule(id: "${unknown('AvailabilityRule')}", input: { capacity: 2 }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'deleteAvailabilityRule(id)',
    entity: 'AvailabilityRule',
    query: () => `mutation { deleteAvailabilityRule(id: "${unknown('AvailabilityRule')}") { ${NOT_FOUND} } }`,
  },
  {
    field: 'createForm(locationId)',
    entity: 'Location',
    query: () =>
      `mutation { createForm(input: { locationId: "${unknown('Location')}", title: "T", slug: "unknown-location-form", timeZone: "UTC" }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'createResource(locationId)',
    entity: 'Location',
    query: () => `mutation { createResource(input: { locationId: "${unknown('Location')}", kind: PERSON, name: "Ghost" }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'createSession(resourceId)',
    entity: 'Resource',
    query: () =>
      `mutation { createSession(input: { resourceId: "${unknown('Resource')}", startAt: "${START}", durationMinutes: 30 }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'generateSlots(locationId)',
    entity: 'Location',
    query: () => `mutation { generateSlots(input: { locationId: "${unknown('Location')}", from: "2058-01-07", to: "2058-01-08" }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'generateSlots(resourceId)',
    entity: 'Resource',
    query: () => `mutation { generateSlots(input: { resourceId: "${unknown('Resource')}", from: "2058-01-07", to: "2058-01-08" }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'joinWaitlist(resourceId)',
    entity: 'Resource',
    query: () =>
      `mutation { joinWaitlist(input: { resourceId: "${unknown('Resource')}", from: "${START}", to: "${END}", customer: { name: "N", email: "n4@example.com" } }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'joinWaitlist(slotId)',
    entity: 'Slot',
    query: () =>
      `mutation { joinWaitlist(input: { slotId: "${unknown('Slot')}", customer: { name: "N", email: "n5@example.com" } }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'leaveWaitlist(entryId)',
    entity: 'WaitlistEntry',
    query: () => `mutation { leaveWaitlist(input: { entryId: "${unknown('WaitlistEntry')}" }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'register(formId)',
    entity: 'Form',
    query: () =>
      `mutation { register(input: { formId: "${unknown('Form')}", name: "N", email: "n6@example.com", slotIds: ["${gid('Slot', slotId)}"] }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'replayWebhookDelivery(id)',
    entity: 'WebhookDelivery',
    query: () => `mutation { replayWebhookDelivery(id: "${unknown('WebhookDelivery')}") { ${NOT_FOUND} } }`,
  },
  {
    field: 'retryOutboxMessage(id)',
    entity: 'OutboxMessage',
    query: () => `mutation { retryOutboxMessage(id: "${unknown('OutboxMessage')}") { ${NOT_FOUND} } }`,
  },
  { field: 'revokeApiToken(id)', entity: 'ApiToken', query: () => `mutation { revokeApiToken(id: "${unknown('ApiToken')}") { ${NOT_FOUND} } }` },
  {
    field: 'deleteWebhook(id)',
    entity: 'WebhookEndpoint',
    query: () => `mutation { deleteWebhook(id: "${unknown('WebhookEndpoint')}") { ${NOT_FOUND} } }`,
  },
  {
    field: 'rotateWebhookSecret(id)',
    entity: 'WebhookEndpoint',
    query: () => `mutation { rotateWebhookSecret(id: "${unknown('WebhookEndpoint')}") { ${NOT_FOUND} } }`,
  },
  {
    field: 'updateWebhook(id)',
    entity: 'WebhookEndpoint',
    query: () => `mutation { updateWebhook(input: { id: "${unknown('WebhookEndpoint')}", enabled: false }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'updateLocation(id)',
    entity: 'Location',
    query: () => `mutation { updateLocation(id: "${unknown('Location')}", input: { name: "X" }) { ${NOT_FOUND} } }`,
  },
  {
    field: 'updateResource(id)',
    entity: 'Resource',
    query: () => `mutation { updateResource(id: "${unknown('Resource')}", input: { name: "X" }) { ${NOT_FOUND} } }`,
  },
];

/** Every id a root field takes, as `field(path)`: `book(range.resourceId)`, `updateWebhook(id)` (the `input.` left out). */
function idArguments(): string[] {
  const paths = (type: GraphQLInputType, prefix: string, seen: string[]): string[] => {
    const named = getNamedType(type);
    if (named.name === 'ID') return [prefix];
    if (!isInputObjectType(named) || seen.includes(named.name)) return [];
    return Object.values(named.getFields()).flatMap((f) => paths(f.type, prefix ? `${prefix}.${f.name}` : f.name, [...seen, named.name]));
  };
  const roots = [schema.getQueryType()!, schema.getMutationType()!, schema.getSubscriptionType()!];
  return roots.flatMap((root) =>
    Object.values(root.getFields()).flatMap((field) =>
      field.args.flatMap((arg) => paths(arg.type, arg.name === 'input' ? '' : arg.name, [])).map((path) => `${field.name}(${path})`),
    ),
  );
}

describe('unknown ids answer NotFoundError', () => {
  it('every id a root field takes has a row here', () => {
    expect(
      idArguments()
        .filter((f) => !NOT_HERE.includes(f))
        .sort(),
    ).toEqual(CASES.map((c) => c.field).sort());
  });

  it.each(CASES.map((c) => [c.field, c] as const))('%s', async (_field, c) => {
    const response = await t.execute(c.query(), {}, { token: t.adminToken });
    expect(response.errors).toBeUndefined();
    expect(Object.values(response.data!)[0]).toEqual({ __typename: 'NotFoundError', entity: c.entity });
  });

  it('an unknown id changes nothing', async () => {
    const counts = async () => [
      await t.app.db.prisma.resource.count(),
      await t.app.db.prisma.availabilityRule.count(),
      await t.app.db.prisma.form.count(),
    ];
    const before = await counts();
    for (const c of CASES.filter((x) => x.field.startsWith('create'))) await t.execute(c.query(), {}, { token: t.adminToken });
    expect(await counts()).toEqual(before);
  });
});

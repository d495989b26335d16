import { getOperationAST, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadManifest } from '../http/persisted-operations.js';
import { schema } from '../schema.js';
import { operationCost } from './cost.js';

/** The SDK's operations by name (the widget and apps send these). */
const sdk = new Map(
  Object.values(loadManifest()).map((text) => {
    const document = parse(text);
    return [getOperationAST(document)!.name!.value, document] as const;
  }),
);

const now = new Date('2030-01-01T00:00:00Z');
const DAY = 86_400_000;
const days = (n: number) => ({ from: now.toISOString(), to: new Date(now.getTime() + n * DAY).toISOString() });

function costOf(name: string, variables: Record<string, unknown> = {}) {
  const document = sdk.get(name) ?? parse(name);
  const result = operationCost(schema, document, getOperationAST(document)!, variables, now);
  expect(result.invalidVariables, `${name}: variables`).toBe(false);
  return result.cost;
}

describe('operation cost (README "Cost of an operation")', () => {
  it('prices the typical operations as the README lists them', () => {
    const table: [string, number][] = [
      ['{ serverTime }', costOf('{ serverTime }')],
      ['Locations', costOf('Locations')],
      ['Availability, a resource, 1 day', costOf('Availability', { resourceId: 'r', ...days(1) })],
      ['Availability, a resource, 7 days', costOf('Availability', { resourceId: 'r', ...days(7) })],
      ['Availability, a location, 7 days', costOf('Availability', { locationId: 'l', ...days(7) })],
      ['Availability, a location, 92 days', costOf('Availability', { locationId: 'l', ...days(92) })],
      ['AvailableDates, a resource, 31 dates', costOf('AvailableDates', { resourceId: 'r', from: '2030-01-01', to: '2030-01-31' })],
      ['AvailableDates, a location, 31 dates', costOf('AvailableDates', { locationId: 'l', from: '2030-01-01', to: '2030-01-31' })],
      ['ExposedSlots, a person', costOf('ExposedSlots', { resourceId: 'r', date: '2030-01-01' })],
      ['SearchAvailability, a resource, 7 days', costOf('SearchAvailability', { resourceId: 'r', durationMinutes: 30, ...days(7) })],
      ['SlotAvailability, a resource, default 14 days', costOf('SlotAvailability', { resourceId: 'r' })],
      ['SlotAvailability, a location, default 14 days', costOf('SlotAvailability', { locationId: 'l' })],
      ['Bookings (staff), first 20', costOf('Bookings', { first: 20 })],
      ['Bookings (staff), first 100', costOf('Bookings', { first: 100 })],
    ];
    expect(Object.fromEntries(table)).toEqual({
      '{ serverTime }': 0,
      Locations: 11,
      'Availability, a resource, 1 day': 12,
      'Availability, a resource, 7 days': 18,
      'Availability, a location, 7 days': 46,
      'Availability, a location, 92 days': 471,
      'AvailableDates, a resource, 31 dates': 42,
      'AvailableDates, a location, 31 dates': 166,
      'ExposedSlots, a person': 12,
      'SearchAvailability, a resource, 7 days': 138,
      'SlotAvailability, a resource, default 14 days': 25,
      'SlotAvailability, a location, default 14 days': 81,
      'Bookings (staff), first 20': 103,
      'Bookings (staff), first 100': 503,
    });
  });

  it('keeps every SDK operation under the default maximum (1,000) with its widest arguments', () => {
    const widest = { resourceId: 'r', locationId: 'l', ...days(93), first: 100, last: 100, date: '2030-01-01', durationMinutes: 480 };
    for (const [name, document] of sdk) {
      const { cost } = operationCost(schema, document, getOperationAST(document)!, widest, now);
      expect(cost, name).toBeLessThanOrEqual(1000);
    }
  });

  it('says whether variables can change the weight of an operation (the plugin weighs the others once)', () => {
    const weighs = (name: string, variables: Record<string, unknown>) =>
      operationCost(schema, sdk.get(name)!, getOperationAST(sdk.get(name)!)!, variables, now).weighsArguments;
    const customer = { name: 'A', email: 'a@example.com' };
    expect(weighs('Book', { input: { slotId: 's', customer } })).toBe(false);
    expect(weighs('Hold', { input: { slotId: 's', customer } })).toBe(false);
    expect(weighs('Locations', {})).toBe(false);
    expect(weighs('Availability', { resourceId: 'r', ...days(7) })).toBe(true);
    expect(weighs('Bookings', { first: 20 })).toBe(true);
    expect(weighs('Nodes', { ids: ['a', 'b'] })).toBe(true);
    // What it claims: the same weight whatever the variables, where no field weighs its arguments.
    const book = (slotId: string) => costOf('Book', { input: { slotId, customer, notes: slotId.repeat(50), partySize: slotId.length } });
    expect(book('x')).toBe(book('another slot'));
  });

  it('counts aliases, nested windows and connection pages', () => {
    const aliased = `query ($l: ID!, $from: DateTime!, $to: DateTime!) { ${Array.from({ length: 30 }, (_, i) => `a${i}: availability(locationId: $l, from: $from, to: $to) { __typename }`).join(' ')} }`;
    const result = operationCost(schema, parse(aliased), getOperationAST(parse(aliased))!, { l: 'l', ...days(92) }, now);
    expect(result).toMatchObject({ cost: 30 * 92 * 5, availabilityFields: 30 });
    // Every location's 93 days of slots: each location counts as 5 resources, and 10 locations are assumed.
    expect(costOf('{ locations { slots(from: "2030-01-01T00:00:00Z", to: "2030-04-04T00:00:00Z") { id } } }')).toBe(1 + 10 * (93 * 5 + 10));
    // Only the dearest member of a union counts.
    expect(
      costOf('{ bookings(first: 50) { ... on BookingConnection { edges { node { id } } } ... on ValidationError { fieldErrors { path } } } }'),
    ).toBe(1 + 1 + 50 * 1);
    // Each object of a list counts, even when only leaves are asked for.
    expect(costOf(`{ nodes(ids: [${Array.from({ length: 2000 }, () => '"x"').join(',')}]) { id } }`)).toBe(1 + 2000);
    // Variables that do not coerce are no estimate: the operation fails before it runs.
    const bad = parse('query ($from: DateTime!) { availability(resourceId: "r", from: $from, to: $from) { __typename } }');
    expect(operationCost(schema, bad, getOperationAST(bad)!, { from: 'not a date' }, now).invalidVariables).toBe(true);
  });
});

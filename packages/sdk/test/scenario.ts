import { expect } from 'vitest';
import { createClient, type SlotwiseClient } from '../src/index.js';
import {
  AvailabilityDocument,
  CreateAvailabilityRuleDocument,
  CreateLocationDocument,
  CreateResourceDocument,
  GenerateSlotsDocument,
  type SlotFieldsFragment,
} from '../src/documents.js';
import type { LiveServer } from './live-server.js';

/** YYYY-MM-DD, `days` from today (UTC). */
export const dayFromNow = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

/** Narrows a union result to one member, failing with the whole result otherwise. */
export function as<T extends { __typename: string }, N extends T['__typename']>(result: T, typename: N): Extract<T, { __typename: N }> {
  expect(result.__typename, JSON.stringify(result)).toBe(typename);
  return result as Extract<T, { __typename: N }>;
}

export interface Scenario {
  admin: SlotwiseClient;
  locationId: string;
  resourceId: string;
  /** Generated slots of the resource, by start. */
  slots: SlotFieldsFragment[];
}

/**
 * Through the SDK as an admin: a New York location, a person with 2 places per slot, a weekly
 * 09:00-12:00 rule of 30-minute slots, and its slots for the next week.
 */
export async function setUpScenario(server: LiveServer, options: { capacity?: number; admin?: SlotwiseClient } = {}): Promise<Scenario> {
  const admin = options.admin ?? createClient({ url: server.url, token: server.adminToken });
  const location = as(
    (await admin.request(CreateLocationDocument, { input: { name: 'Riverside', timeZone: 'America/New_York' } })).createLocation,
    'Location',
  );
  const resource = as(
    (
      await admin.request(CreateResourceDocument, {
        input: { locationId: location.id, kind: 'PERSON', name: 'Dr. Ada', capacity: options.capacity ?? 2 },
      })
    ).createResource,
    'Resource',
  );
  as(
    (
      await admin.request(CreateAvailabilityRuleDocument, {
        input: {
          resourceId: resource.id,
          kind: 'WEEKLY',
          daysOfWeek: [1, 2, 3, 4, 5, 6, 7],
          startTime: '09:00',
          endTime: '12:00',
          slotDurationMinutes: 30,
          capacity: options.capacity ?? 2,
        },
      })
    ).createAvailabilityRule,
    'AvailabilityRulePayload',
  );
  as(
    (await admin.request(GenerateSlotsDocument, { input: { resourceId: resource.id, from: dayFromNow(1), to: dayFromNow(7) } })).generateSlots,
    'SlotGenerationReport',
  );
  const slots = await slotsOf(admin, resource.id);
  expect(slots.length).toBeGreaterThan(0);
  return { admin, locationId: location.id, resourceId: resource.id, slots };
}

async function slotsOf(client: SlotwiseClient, resourceId: string) {
  const from = new Date(Date.now() + 86_400_000).toISOString();
  const to = new Date(Date.now() + 9 * 86_400_000).toISOString();
  return as((await client.request(AvailabilityDocument, { resourceId, from, to })).availability, 'Availability').slots;
}

import { gql } from '@apollo/client';
import { request as graphqlRequest } from 'graphql-request';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apolloBooking } from '../examples/apollo.js';
import { urqlBooking } from '../examples/urql-graphcache.js';
import { createClient, graphcacheKeys, possibleTypes } from '../src/index.js';
import { AvailabilityDocument, HoldDocument } from '../src/documents.js';
import { startLiveServer, type LiveServer } from './live-server.js';
import { setUpScenario, type Scenario } from './scenario.js';

let server: LiveServer;
let s: Scenario;
beforeAll(async () => {
  server = await startLiveServer();
  s = await setUpScenario(server, { capacity: 1 });
});
afterAll(() => server?.stop());

const week = () => [new Date().toISOString(), new Date(Date.now() + 9 * 86_400_000).toISOString()] as const;
const customer = (name: string) => ({ name, email: `${name.toLowerCase()}@example.com` });

describe('third-party clients with @slotwise/sdk/documents', () => {
  it('urql + graphcache: lists open slots, holds one, then gets SlotFullError with its code', async () => {
    const urql = urqlBooking(server.url);
    const [from, to] = week();
    const open = await urql.openSlots(s.resourceId, from, to);
    const slot = s.slots[0]!;
    expect(open.map((x) => x.id)).toContain(slot.id);
    expect(await urql.hold(slot.id, customer('Ada'))).toEqual({ bookingId: expect.any(String) });
    expect(await urql.hold(slot.id, customer('Bob'))).toEqual({ code: 'SLOT_FULL', message: expect.any(String) });
    expect((await urql.openSlots(s.resourceId, from, to)).map((x) => x.id)).not.toContain(slot.id);
  });

  it('Apollo Client 4: the same, and `... on Error { code message }` keeps its fields with possibleTypes', async () => {
    const apollo = apolloBooking(server.url);
    const [from, to] = week();
    const slot = s.slots[1]!;
    expect((await apollo.openSlots(s.resourceId, from, to)).map((x) => x.id)).toContain(slot.id);
    expect(await apollo.hold(slot.id, customer('Cy'))).toEqual({ bookingId: expect.any(String) });
    expect(await apollo.hold(slot.id, customer('Di'))).toEqual({ code: 'SLOT_FULL', message: expect.any(String) });

    const { data } = await apollo.client.mutate<{ hold: { __typename: string; code?: string; message?: string } }>({
      mutation: gql`mutation($input: HoldInput!) { hold(input: $input) { __typename ... on Error { code message } } }`,
      variables: { input: { slotId: slot.id, customer: customer('Ed') } },
    });
    expect(data?.hold).toEqual({ __typename: 'SlotFullError', code: 'SLOT_FULL', message: expect.any(String) });
  });

  it('graphql-request and the Slotwise client take the DocumentNodes too', async () => {
    const [from, to] = week();
    const viaRequest = await graphqlRequest(server.url, AvailabilityDocument, { resourceId: s.resourceId, from, to });
    expect(viaRequest.availability.__typename).toBe('Availability');
    const result = await createClient({ url: server.url }).request(HoldDocument, { input: { slotId: s.slots[2]!.id, customer: customer('Fy') } });
    expect(result.hold.__typename).toBe('BookingReceipt');
  });

  it('possibleTypes and graphcacheKeys come from the schema', () => {
    expect(possibleTypes.Error).toContain('SlotFullError');
    expect(possibleTypes.Node).toContain('Slot');
    expect(graphcacheKeys.BookingReceipt?.()).toBeNull();
    expect(graphcacheKeys.SlotFullError?.()).toBeNull();
    expect(graphcacheKeys).not.toHaveProperty('Slot');
  });
});

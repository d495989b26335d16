import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { AvailabilityDocument, HoldDocument, possibleTypes } from '@slotwise/sdk/documents';

/** Apollo Client 4: `possibleTypes` lets the cache match `... on Error` and the result unions. */
export function apolloBooking(url: string) {
  const client = new ApolloClient({ link: new HttpLink({ uri: url }), cache: new InMemoryCache({ possibleTypes }) });

  async function openSlots(resourceId: string, from: string, to: string) {
    const { data } = await client.query({ query: AvailabilityDocument, variables: { resourceId, from, to }, fetchPolicy: 'network-only' });
    if (!data) throw new Error('no data');
    if (data.availability.__typename !== 'Availability') throw new Error(data.availability.message);
    return data.availability.slots.filter((slot) => slot.remaining > 0);
  }

  async function hold(slotId: string, customer: { name: string; email: string }) {
    const { data } = await client.mutate({ mutation: HoldDocument, variables: { input: { slotId, customer } } });
    if (!data) throw new Error('no data');
    const result = data.hold;
    return result.__typename === 'BookingReceipt' ? { bookingId: result.booking.id } : { code: result.code, message: result.message };
  }

  return { client, openSlots, hold };
}

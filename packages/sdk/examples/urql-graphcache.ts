import { Client, fetchExchange } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { AvailabilityDocument, HoldDocument, graphcacheKeys, graphcacheSchema } from '@slotwise/sdk/documents';

/** urql with graphcache: the documents are real TypedDocumentNodes; `graphcacheSchema` matches
 * fragments on unions exactly, `graphcacheKeys` embeds id-less results and errors. */
export function urqlBooking(url: string) {
  const client = new Client({ url, exchanges: [cacheExchange({ schema: graphcacheSchema, keys: graphcacheKeys }), fetchExchange] });

  async function openSlots(resourceId: string, from: string, to: string) {
    const { data, error } = await client.query(AvailabilityDocument, { resourceId, from, to }, { requestPolicy: 'network-only' }).toPromise();
    if (error || !data) throw error ?? new Error('no data');
    if (data.availability.__typename !== 'Availability') throw new Error(data.availability.message);
    return data.availability.slots.filter((slot) => slot.remaining > 0);
  }

  async function hold(slotId: string, customer: { name: string; email: string }) {
    const { data, error } = await client.mutation(HoldDocument, { input: { slotId, customer } }).toPromise();
    if (error || !data) throw error ?? new Error('no data');
    const result = data.hold;
    // Narrowing on __typename: the success has the booking, every error member has `code` and `message`.
    return result.__typename === 'BookingReceipt' ? { bookingId: result.booking.id } : { code: result.code, message: result.message };
  }

  return { client, openSlots, hold };
}

import { createClient, AvailabilityDocument, ConfirmDocument, HoldDocument } from '@slotwise/sdk';

export function bookingPage(url: string, resourceId: string) {
  const client = createClient({ url });
  async function showWeek(list: HTMLElement) {
    const from = new Date().toISOString(),
      to = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const { availability } = await client.request(AvailabilityDocument, { resourceId, from, to });
    if (availability.__typename !== 'Availability') throw new Error(availability.message);
    for (const slot of availability.slots.filter((s) => s.remaining > 0)) {
      const button = list.appendChild(document.createElement('button'));
      button.textContent = `${slot.localDate} ${slot.localStart}-${slot.localEnd} (${slot.remaining} left)`;
      button.onclick = () => book(slot.id, { name: 'Ada Lovelace', email: 'ada@example.com' }).then(alert);
    }
  }
  async function book(slotId: string, customer: { name: string; email: string }): Promise<string> {
    const { hold } = await client.request(HoldDocument, { input: { slotId, customer } });
    if (hold.__typename === 'SlotFullError') return 'That slot is full — please pick another';
    if (hold.__typename !== 'BookingReceipt') return hold.message;
    const { confirm } = await client.request(ConfirmDocument, { input: { bookingId: hold.booking.id, manageToken: hold.manageToken } });
    return confirm.__typename === 'Booking' ? `Booked: ${confirm.slot?.localDate} ${confirm.slot?.localStart}` : confirm.message;
  }
  return { showWeek, book };
}

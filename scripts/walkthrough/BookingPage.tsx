import { useState } from 'react';
import { useAvailability, useConfirm, useHold } from '@slotwise/react';

function BookButton({ slotId, onMessage }: { slotId: string; onMessage: (text: string) => void }) {
  const hold = useHold();
  const confirm = useConfirm();

  async function book() {
    const held = await hold.run({ slotId, customer: { name: 'Ada Lovelace', email: 'ada@example.com' } });
    switch (held.__typename) {
      case 'BookingReceipt':
        break;
      case 'SlotFullError':
        return onMessage('That slot is full — please pick another');
      case 'ValidationError':
        return onMessage(held.fieldErrors.map((e) => e.message).join(' '));
      default:
        return onMessage(held.message); // every error member has `code` and `message`
    }
    const booked = await confirm.run({ bookingId: held.booking.id, manageToken: held.manageToken });
    onMessage(booked.__typename === 'Booking' ? 'Booked, see you then!' : booked.message); // e.g. HoldExpiredError
  }
  return (
    <button type="button" disabled={hold.loading || confirm.loading} onClick={() => void book()}>
      Book
    </button>
  );
}

const from = new Date().toISOString();
const to = new Date(Date.now() + 7 * 86_400_000).toISOString();

export function BookingPage({ resourceId }: { resourceId: string }) {
  const { slots, status, timeZone } = useAvailability({ resourceId, from, to });
  const [message, setMessage] = useState('');
  if (status === 'loading') return <p>Loading…</p>;
  return (
    <section>
      <p>
        Times in {timeZone} ({status})
      </p>
      <p role="status">{message}</p>
      <ul>
        {slots
          .filter((s) => s.remaining > 0)
          .map((s) => (
            <li key={s.id} data-slot-id={s.id}>
              {s.localDate} {s.localStart} <BookButton slotId={s.id} onMessage={setMessage} />
            </li>
          ))}
      </ul>
    </section>
  );
}

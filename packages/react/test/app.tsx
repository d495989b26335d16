/**
 * A tiny booking page on the hooks, as an app would write it: the slots of a resource (only open ones), hold then
 * confirm, and book-by-id with the business errors narrowed by `__typename`. Parameters come from the query string.
 */
import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { SlotwiseProvider, useAvailability, useBook, useConfirm, useHold } from '../src/index.js';

const params = new URLSearchParams(location.search);
const resourceId = params.get('resource')!;
const transport = (params.get('transport') ?? 'auto') as 'auto' | 'ws' | 'sse';
const from = new Date().toISOString();
const to = new Date(Date.now() + 9 * 86_400_000).toISOString();
const customer = { name: 'Hook User', email: 'hook@example.com' };

function Slots() {
  const { slots, status, timeZone, error } = useAvailability({ resourceId, from, to });
  const hold = useHold();
  const confirm = useConfirm();
  const book = useBook();
  const [slotId, setSlotId] = useState('');
  const [outcome, setOutcome] = useState('');

  async function holdSlot(id: string) {
    const result = await hold.run({ slotId: id, customer });
    switch (result.__typename) {
      case 'BookingReceipt':
        return setOutcome(`held ${result.booking.status}`);
      case 'SlotFullError':
        return setOutcome(`full: ${result.remaining} left`);
      default:
        return setOutcome(`${result.__typename}: ${result.message}`);
    }
  }

  async function confirmHold() {
    if (!hold.data) return;
    const result = await confirm.run({ bookingId: hold.data.booking.id, manageToken: hold.data.manageToken });
    setOutcome(result.__typename === 'Booking' ? `confirmed ${result.status}` : `${result.code}: ${result.message}`);
  }

  async function bookById() {
    try {
      const result = await book.run({ slotId, customer });
      if (result.__typename === 'SlotFullError') setOutcome(`SlotFullError on ${result.slotId}`);
      else if (result.__typename === 'ValidationError') setOutcome(`invalid ${result.fieldErrors.map((f) => f.path.join('.')).join(',')}`);
      else if (result.__typename === 'BookingReceipt') setOutcome(`booked ${result.booking.status}`);
      else setOutcome(result.code);
    } catch (err) {
      setOutcome(`failed ${(err as Error).message}`);
    }
  }

  return (
    <main>
      <h1>Book a time</h1>
      <p id="status">{status}</p>
      <p id="zone">{timeZone}</p>
      {error && <p id="error">{'code' in error ? error.code : ''}</p>}
      <ul id="slots">
        {slots
          .filter((s) => s.remaining > 0)
          .map((s) => (
            <li key={s.id} data-slot-id={s.id} data-remaining={s.remaining}>
              <button type="button" onClick={() => void holdSlot(s.id)}>
                {s.localDate} {s.localStart}
              </button>
            </li>
          ))}
      </ul>
      {hold.data && (
        <button type="button" id="confirm" onClick={() => void confirmHold()}>
          Confirm
        </button>
      )}
      <label>
        Slot id <input id="slot-id" value={slotId} onChange={(e) => setSlotId(e.target.value)} />
      </label>
      <button type="button" id="book" disabled={book.loading} onClick={() => void bookById()}>
        Book
      </button>
      <p id="outcome" role="status">
        {outcome}
      </p>
      <p id="hook-error">{book.error?.__typename ?? ''}</p>
    </main>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <SlotwiseProvider options={{ url: '/graphql', transport }}>
      <Slots />
    </SlotwiseProvider>
  </StrictMode>,
);

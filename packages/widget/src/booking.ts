import { CancelBookingDocument, ConfirmDocument, HoldDocument, RegisterDocument, type SlotwiseClient } from '@slotwise/sdk';
import type { Scope } from './scope.js';

export const FULL = 'That slot is full — please pick another';
export const EXPIRED = 'Your hold expired before you confirmed — please pick a time again';

export interface Reservation {
  holdExpiresAt: string | null;
  confirm(): Promise<{ ok: true } | { ok: false; text: string }>;
  /** Gives the held place back at once instead of letting the hold run out. */
  release(): Promise<void>;
}

type Outcome = { kind: 'held'; reservation: Reservation } | { kind: 'registered' } | { kind: 'error'; message: string; field?: 'name' | 'email' };

function fieldOf(errors: { path: string[] }[]): 'name' | 'email' | undefined {
  const path = errors.map((e) => e.path.join('.')).join(' ');
  return /email/.test(path) ? 'email' : /name/.test(path) ? 'name' : undefined;
}

/** Holds a resource's slot (then confirm), or signs up for a form's slot in one step. */
export async function reserve(client: SlotwiseClient, scope: Scope, slotId: string, customer: { name: string; email: string }): Promise<Outcome> {
  if ('formId' in scope) {
    const { register } = await client.request(RegisterDocument, { input: { formId: scope.formId, slotIds: [slotId], ...customer } });
    switch (register.__typename) {
      case 'Registration':
        return { kind: 'registered' };
      case 'SlotsUnavailableError':
        return {
          kind: 'error',
          message: register.unavailable.some((u) => u.reason === 'FULL') ? FULL : 'That time is no longer available — please pick another',
        };
      case 'ValidationError':
        return { kind: 'error', message: register.fieldErrors[0]?.message ?? register.message, field: fieldOf(register.fieldErrors) };
      default:
        return { kind: 'error', message: register.message };
    }
  }
  const { hold } = await client.request(HoldDocument, { input: { slotId, customer } });
  switch (hold.__typename) {
    case 'BookingReceipt': {
      const { booking, manageToken } = hold;
      return {
        kind: 'held',
        reservation: {
          holdExpiresAt: booking.holdExpiresAt,
          async confirm() {
            const { confirm } = await client.request(ConfirmDocument, { input: { bookingId: booking.id, manageToken } });
            switch (confirm.__typename) {
              case 'Booking':
                return { ok: true };
              case 'HoldExpiredError':
              case 'BookingNotActiveError':
                return { ok: false, text: EXPIRED };
              default:
                return { ok: false, text: confirm.message };
            }
          },
          async release() {
            await client.request(CancelBookingDocument, { input: { bookingId: booking.id, manageToken } });
          },
        },
      };
    }
    case 'SlotFullError':
      return { kind: 'error', message: FULL };
    case 'SlotUnavailableError':
    case 'BookingConflictError':
    case 'BookingPolicyError':
      return { kind: 'error', message: 'That time is no longer available — please pick another' };
    case 'ValidationError':
      return { kind: 'error', message: hold.fieldErrors[0]?.message ?? hold.message, field: fieldOf(hold.fieldErrors) };
    case 'TryAgainError':
      return { kind: 'error', message: 'The booking service is busy — please try again' };
    case 'NotFoundError':
      return { kind: 'error', message: 'That time no longer exists — please pick another' };
    case 'FormRegistrationRequiredError':
      return { kind: 'error', message: 'That time belongs to a sign-up form — please use the form' };
    case 'DuplicateBookingError':
      // The widget asks for name and email only: the email is what matched.
      return { kind: 'error', message: 'You already have this time booked — please pick another', field: 'email' };
  }
}

import { encodeGlobalID } from '@pothos/plugin-relay';
import type { TestApp } from '../../test/harness.js';

/** GraphQL documents and small helpers the booking tests share. */
export const gid = (type: string, id: string) => encodeGlobalID(type, id);

const BOOKING_FIELDS = `id kind status startAt endAt holdExpiresAt icsUid icsSequence confirmedAt cancelledAt
  customer { name email phone } slot { id } resource { id }`;
const ERROR_SELECTIONS: Record<string, string> = {
  ValidationError: 'fieldErrors { path message }',
  SlotFullError: 'slotId remaining',
  SlotUnavailableError: 'slotId reason',
  HoldExpiredError: 'bookingId expiredAt',
  BookingNotActiveError: 'status',
  BookingConflictError: 'conflict { startAt endAt } alternatives { startAt endAt durationMinutes }',
};
/** `... on Error` plus the fields of each listed error type (a union only allows its own members). */
const errors = (...types: string[]) =>
  ['... on Error { __typename code message }', ...types.map((type) => `... on ${type} { ${ERROR_SELECTIONS[type]} }`)].join('\n');
const SLOT_ERRORS = errors('ValidationError', 'SlotFullError', 'SlotUnavailableError', 'BookingConflictError');

export const HOLD = `mutation Hold($input: HoldInput!) { hold(input: $input) {
  __typename ... on BookingReceipt { manageToken booking { ${BOOKING_FIELDS} } } ${SLOT_ERRORS} } }`;
export const BOOK = `mutation Book($input: BookInput!) { book(input: $input) {
  __typename ... on BookingReceipt { manageToken booking { ${BOOKING_FIELDS} } } ${SLOT_ERRORS} } }`;
export const CONFIRM = `mutation Confirm($input: ManageBookingInput!) { confirm(input: $input) {
  __typename ... on Booking { ${BOOKING_FIELDS} } ${errors('ValidationError', 'HoldExpiredError', 'BookingNotActiveError')} } }`;
export const CANCEL = `mutation Cancel($input: ManageBookingInput!) { cancelBooking(input: $input) {
  __typename ... on Booking { ${BOOKING_FIELDS} } ${errors('ValidationError', 'BookingNotActiveError')} } }`;
export const RESCHEDULE = `mutation Reschedule($input: RescheduleBookingInput!) { rescheduleBooking(input: $input) {
  __typename ... on Booking { ${BOOKING_FIELDS} } ${errors('ValidationError', 'SlotFullError', 'SlotUnavailableError', 'BookingConflictError', 'HoldExpiredError', 'BookingNotActiveError')} } }`;
export const BOOKING = `query Booking($id: ID!, $manageToken: String) { booking(id: $id, manageToken: $manageToken) {
  __typename ... on Booking { ${BOOKING_FIELDS} } ${errors('ValidationError')} } }`;

/** A customer per `n`, each with their own email and phone (one live booking per slot per customer). */
export const customer = (n: number | string = 1) => ({ name: `Customer ${n}`, email: `c${n}@Example.com`, phone: `+1 555 ${phoneDigits(String(n))}` });

/** Seven digits from FNV-1a: different names get different phones (no collision among the names tests use). */
function phoneDigits(s: string): string {
  let h = 0x811c9dc5;
  for (const c of s) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return String(h % 10_000_000).padStart(7, '0');
}

/** Runs a mutation and returns its one root field's value, failing on GraphQL-level errors. */
export async function call(t: TestApp, query: string, input: Record<string, unknown>, options: { token?: string; headers?: Record<string, string> } = {}) {
  const response = await t.execute(query, { input }, options);
  if (response.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
  return Object.values(response.data as Record<string, any>)[0];
}

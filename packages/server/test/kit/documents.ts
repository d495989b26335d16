import type { ExecuteOptions, TestApp, TypedDocument } from './app.js';

/** GraphQL documents the tests share, as strings (the typed ones come from the SDK: see app.ts `execute`). */

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

/** The exposedSlots query the exposure tests share. */
export const EXPOSED = `query ($resourceId: ID, $locationId: ID, $date: Date!, $sessionId: String) {
  exposedSlots(resourceId: $resourceId, locationId: $locationId, date: $date, sessionId: $sessionId) {
    __typename
    ... on ExposedSlots { date timeZone total hasMore k variant slots { id startAt localStart dayPart remaining } }
    ... on ValidationError { fieldErrors { path message } }
  }
}`;

/**
 * Runs a mutation and returns its one root field's value, failing on GraphQL-level errors. With an SDK
 * document the value is typed (narrow it on `__typename`).
 */
export async function call(t: TestApp, query: string, input: Record<string, unknown>, options?: ExecuteOptions): Promise<any>;
export async function call<TResult, TVariables extends { input: unknown }>(
  t: TestApp,
  document: TypedDocument<TResult, TVariables>,
  input: NoInfer<TVariables['input']>,
  options?: ExecuteOptions,
): Promise<TResult[Exclude<keyof TResult, '__typename'>]>;
export async function call(t: TestApp, query: string | TypedDocument<unknown, { input: unknown }>, input: unknown, options: ExecuteOptions = {}) {
  const response = await t.execute(query as string, { input }, options);
  if (response.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
  return Object.values(response.data as Record<string, unknown>)[0];
}

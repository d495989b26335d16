import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { createClient, isBusinessError, SlotwiseError, type BusinessError } from '../src/index.js';
import { ConfirmDocument, HoldDocument, type ConfirmMutation, type HoldMutation } from '../src/documents.js';
import { startLiveServer, type LiveServer } from './live-server.js';
import { as, setUpScenario, type Scenario } from './scenario.js';

let server: LiveServer;
let s: Scenario;
beforeAll(async () => {
  server = await startLiveServer();
  s = await setUpScenario(server, { capacity: 1 });
});
afterAll(() => server?.stop());

const customer = { name: 'Ada', email: 'ada@example.com' };
const rawId = (globalId: string) => Buffer.from(globalId, 'base64').toString('utf8').split(':')[1]!;

/** What a booking page would say: every member of the union handled, checked by `never`. */
function describeHold(result: HoldMutation['hold']): string {
  switch (result.__typename) {
    case 'BookingReceipt':
      return `held until ${result.booking.holdExpiresAt}`;
    case 'SlotFullError':
      return `full (${result.remaining} left)`;
    case 'SlotUnavailableError':
      return `unavailable: ${result.reason}`;
    case 'BookingConflictError':
      return `conflict, ${result.alternatives.length} alternatives`;
    case 'DuplicateBookingError':
      return `already booked (${result.field.join('.')})`;
    case 'FormRegistrationRequiredError':
      return `use ${result.mutation}`;
    case 'BookingPolicyError':
      return `refused by ${result.policy}`;
    case 'TryAgainError':
    case 'ValidationError':
    case 'NotFoundError':
      return result.message;
    default: {
      const unreachable: never = result;
      return unreachable;
    }
  }
}

describe('typed business errors', () => {
  it('SlotFullError narrows by __typename and by isBusinessError', async () => {
    const client = createClient({ url: server.url });
    const slot = s.slots[0]!;
    const first = await client.request(HoldDocument, { input: { slotId: slot.id, customer } });
    expect(describeHold(first.hold)).toMatch(/^held until \d{4}-/);
    const second = (await client.request(HoldDocument, { input: { slotId: slot.id, customer: { name: 'Bo', email: 'bo@example.com' } } })).hold;
    expect(describeHold(second)).toBe('full (0 left)');
    if (!isBusinessError(second)) throw new Error('expected an error');
    expectTypeOf(second.code).toEqualTypeOf<string>();
    expect(second).toMatchObject({ __typename: 'SlotFullError', code: 'SLOT_FULL', slotId: slot.id });
  });

  it('HoldExpiredError after the hold ran out', async () => {
    const client = createClient({ url: server.url });
    const receipt = as((await client.request(HoldDocument, { input: { slotId: s.slots[1]!.id, customer } })).hold, 'BookingReceipt');
    await server.query(`UPDATE bookings SET hold_expires_at = now() - interval '1 second' WHERE id = $1`, [rawId(receipt.booking.id)]);
    const confirmed = (await client.request(ConfirmDocument, { input: { bookingId: receipt.booking.id, manageToken: receipt.manageToken } })).confirm;
    expect(confirmed).toMatchObject({ __typename: 'HoldExpiredError', code: 'HOLD_EXPIRED', bookingId: receipt.booking.id });
    if (confirmed.__typename === 'HoldExpiredError') expectTypeOf(confirmed.expiredAt).toEqualTypeOf<string>();
  });

  it('request-level failures throw SlotwiseError with the server code', async () => {
    const client = createClient({ url: server.url, token: 'not-a-token' });
    const error = await client.request(HoldDocument, { input: { slotId: s.slots[2]!.id } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlotwiseError);
    expect(error).toMatchObject({ status: 401 });
  });

  it('types: results, variables and error members', () => {
    type Confirm = ConfirmMutation['confirm'];
    expectTypeOf<BusinessError<Confirm>['__typename']>().toEqualTypeOf<
      'HoldExpiredError' | 'BookingNotActiveError' | 'FormNotOpenError' | 'TryAgainError' | 'ValidationError' | 'NotFoundError'
    >();
    expectTypeOf<Extract<Confirm, { __typename: 'HoldExpiredError' }>>().toHaveProperty('expiredAt');
    expectTypeOf<Extract<HoldMutation['hold'], { __typename: 'SlotFullError' }>['remaining']>().toEqualTypeOf<number>();
    const client = createClient({ url: server.url });
    expectTypeOf(() => client.request(HoldDocument, { input: { slotId: 'x' } })).returns.resolves.toEqualTypeOf<HoldMutation>();
    // @ts-expect-error: slotId is required
    void (() => client.request(HoldDocument, { input: {} }));
    // @ts-expect-error: variables are required for Hold
    void (() => client.request(HoldDocument));
    // @ts-expect-error: no such member in a hold result
    void ((r: HoldMutation['hold']) => r.__typename === 'HoldExpiredError');
  });
});

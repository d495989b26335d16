import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { REGISTER, createForm, publishedForm, rowCounts } from '../../test/kit/forms.js';
import { bookSlotsInTransaction } from '../booking/multi-slot.js';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { parseGlobalId } from '../shared/ids.js';

/** Every booking entry point against a form's slots: the form's rules hold whichever is used. */
let t: TestApp;
const NOW = new Date('2054-12-01T12:00:00Z');
beforeAll(async () => {
  t = await createTestApp();
  t.app.services.forms.now = () => NOW;
  t.app.services.registrations.now = () => NOW;
});
afterAll(() => t.close());

const customer = { name: 'Rule Tester', email: 'rules@example.com' };
const FORM_ERRORS = `... on Error { __typename code message }
  ... on FormRegistrationRequiredError { formId mutation }
  ... on FormNotOpenError { status }`;
const DIRECT_ERRORS = `... on Error { __typename code message } ... on FormRegistrationRequiredError { formId mutation }`;
const HOLD = `mutation ($input: HoldInput!) { hold(input: $input) { __typename ${DIRECT_ERRORS} } }`;
const BOOK = `mutation ($input: BookInput!) { book(input: $input) { __typename ${DIRECT_ERRORS} } }`;
const CONFIRM = `mutation ($input: ManageBookingInput!) { confirm(input: $input) { __typename ... on Error { code } ... on FormNotOpenError { status } } }`;
const RESCHEDULE = `mutation ($input: RescheduleBookingInput!) { rescheduleBooking(input: $input) { __typename ... on Booking { slot { id } } ${FORM_ERRORS} } }`;
const close = (id: string) => t.execute(`mutation ($id: ID!) { closeForm(id: $id) { __typename } }`, { id }, { token: t.adminToken });

describe('form rules inside the booking engine', () => {
  it('hold and book on a form slot (draft, published or closed) point to register and write nothing', async () => {
    const published = await publishedForm(t, { maxSlotsPerRegistration: 1 });
    const draft = await createForm(t);
    const closed = await publishedForm(t);
    expectNoErrors(await close(closed.id));
    const before = await rowCounts(t);
    for (const form of [published, draft, closed]) {
      for (const [doc, name] of [
        [HOLD, 'hold'],
        [BOOK, 'book'],
      ] as const) {
        for (const token of [undefined, t.adminToken]) {
          const result = expectNoErrors(await t.execute(doc, { input: { slotId: form.slots[0]!.id, customer } }, { token }));
          expect(result[name]).toEqual({
            __typename: 'FormRegistrationRequiredError',
            code: 'FORM_REGISTRATION_REQUIRED',
            message: expect.stringContaining('register'),
            formId: form.id,
            mutation: 'register',
          });
        }
      }
    }
    expect(await rowCounts(t)).toEqual(before);
  });

  it('register obeys maxSlotsPerRegistration and the status, inside its transaction', async () => {
    const form = await publishedForm(t, { maxSlotsPerRegistration: 1 });
    const before = await rowCounts(t);
    const over = expectNoErrors(
      await t.execute(REGISTER, { input: { ...customer, formId: form.id, slotIds: [form.slots[0]!.id, form.slots[1]!.id] } }),
    );
    expect(over.register).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['input', 'slotIds'], message: 'choose at most 1 slots' }],
    });
    expect(await rowCounts(t)).toEqual(before);
  });

  it('confirm of an earlier hold on a form slot is refused once the form is closed; nothing changes', async () => {
    const form = await publishedForm(t);
    const slotId = parseGlobalId(form.slots[0]!.id, 'Slot', ['slotId']);
    const { manageTokens, bookings } = await t.app.db.sql.transaction((tx) =>
      bookSlotsInTransaction(tx, { slotIds: [slotId], customer, actorLabel: 'test', status: 'HELD', entry: 'register', now: new Date(), mail: null }),
    );
    expectNoErrors(await close(form.id));
    const id = encodeGlobalID('Booking', bookings[0]!.id);
    const result = expectNoErrors(await t.execute(CONFIRM, { input: { bookingId: id, manageToken: manageTokens[0] } }));
    expect(result.confirm).toMatchObject({ __typename: 'FormNotOpenError', code: 'FORM_NOT_OPEN', status: 'CLOSED' });
    const row = await t.app.db.prisma.booking.findUniqueOrThrow({ where: { id: bookings[0]!.id } });
    expect(row.status).toBe('HELD');
  });

  it('rescheduleBooking stays inside its form and needs the form open', async () => {
    const form = await publishedForm(t);
    const other = await publishedForm(t);
    const registered = expectNoErrors(await t.execute(REGISTER, { input: { ...customer, formId: form.id, slotIds: [form.slots[0]!.id] } }));
    const [booking] = await t.app.db.prisma.registrationSlot.findMany({
      where: { registrationId: parseGlobalId(registered.register.id, 'Registration', ['id']) },
    });
    const bookingId = encodeGlobalID('Booking', booking!.bookingId);
    const move = (slotId: string) => t.execute(RESCHEDULE, { input: { bookingId, slotId } }, { token: t.adminToken });

    expect(expectNoErrors(await move(other.slots[1]!.id)).rescheduleBooking).toMatchObject({
      __typename: 'FormRegistrationRequiredError',
      formId: other.id,
    });
    expectNoErrors(await close(form.id));
    expect(expectNoErrors(await move(form.slots[1]!.id)).rescheduleBooking).toMatchObject({ __typename: 'FormNotOpenError', status: 'CLOSED' });
    const row = await t.app.db.prisma.booking.findUniqueOrThrow({ where: { id: booking!.bookingId } });
    expect(row.slotId).toBe(parseGlobalId(form.slots[0]!.id, 'Slot', ['slotId']));
  });
});

import { AppError } from '../shared/errors.js';

export const MAX_SLOTS_PER_FORM = 100;

/** A schedule (or one more slot) would give the form more than MAX_SLOTS_PER_FORM slots. */
export class FormSlotLimitError extends AppError {
  readonly code = 'FORM_SLOT_LIMIT';
  readonly limit = MAX_SLOTS_PER_FORM;
  constructor(readonly requested: number) {
    const forms = Math.ceil(requested / MAX_SLOTS_PER_FORM);
    super(
      `This would give the form ${requested} slots; a form holds at most ${MAX_SLOTS_PER_FORM}. ` +
        `Split the schedule across ${forms} forms (for example by date range).`,
    );
  }

  get suggestedForms(): number {
    return Math.ceil(this.requested / MAX_SLOTS_PER_FORM);
  }
}

/** Registration attempted on a form that is a draft or closed. */
export class FormNotOpenError extends AppError {
  readonly code = 'FORM_NOT_OPEN';
  constructor(
    readonly formId: string,
    readonly status: 'DRAFT' | 'CLOSED',
  ) {
    super(status === 'DRAFT' ? 'This form is not published yet.' : 'This form is closed.');
  }
}

/**
 * Cancelling a slot that people have booked is refused: their bookings would need cancelling and
 * telling, which is the booking engine's (and the mail issue's) job, not a silent side effect here.
 */
export class FormSlotBookedError extends AppError {
  readonly code = 'FORM_SLOT_BOOKED';
  constructor(
    readonly slotId: string,
    readonly booked: number,
  ) {
    super(`The slot has ${booked} live booking(s); cancel those bookings first.`);
  }
}

/** Slot ids given to `register` that are not slots of this form: nothing is booked. */
export class FormSlotNotFoundError extends AppError {
  readonly code = 'FORM_SLOT_NOT_FOUND';
  constructor(readonly slotIds: string[]) {
    super(`These slots are not part of this form: ${slotIds.join(', ')}`);
  }
}

/**
 * A form's slots are booked through `register` (which keeps the form's status and slot limit);
 * hold, book and reschedule onto them are refused with this, pointing there.
 */
export class FormRegistrationRequiredError extends AppError {
  readonly code = 'FORM_REGISTRATION_REQUIRED';
  readonly mutation = 'register';
  constructor(readonly formId: string) {
    super('This slot belongs to a form; sign up with the register mutation (or the form page) instead.');
  }
}

import type { SqlQuery } from '../db/database.js';
import { FormNotOpenError, FormRegistrationRequiredError } from '../forms/forms.errors.js';
import { ValidationError } from '../shared/errors.js';
import { lockForms } from './booking.store.js';

/**
 * How a booking step reaches a form's slot. `register` books a whole selection; `hold`/`book`
 * are refused (they would skip the form's own rules); `confirm` finishes a hold made earlier;
 * `reschedule` moves a booking, and only within its own form.
 */
export type FormEntry = { kind: 'register' } | { kind: 'direct' } | { kind: 'confirm' } | { kind: 'reschedule'; fromFormId: string | null };

/**
 * The one rule for form slots, run inside the booking's transaction after its slot locks: the
 * forms are read FOR SHARE, so a concurrent closeForm waits for this booking or is seen by it.
 * Throws FormRegistrationRequiredError, FormNotOpenError or a ValidationError on input.slotIds.
 */
export async function enforceFormRules(tx: SqlQuery, slots: { form_id: string | null }[], entry: FormEntry): Promise<void> {
  if (entry.kind === 'reschedule') {
    // A move stays within its form (or outside every form): anything else is a different booking.
    const target = slots[0]?.form_id ?? null;
    if (target !== entry.fromFormId) throw new FormRegistrationRequiredError((target ?? entry.fromFormId)!);
  }
  const perForm = new Map<string, number>();
  for (const s of slots) if (s.form_id) perForm.set(s.form_id, (perForm.get(s.form_id) ?? 0) + 1);
  if (!perForm.size) return;
  if (entry.kind === 'direct') throw new FormRegistrationRequiredError([...perForm.keys()][0]!);

  const forms = await lockForms(tx, [...perForm.keys()]);
  for (const form of forms) {
    if (form.status !== 'PUBLISHED') throw new FormNotOpenError(form.id, form.status);
    const max = form.max_slots_per_registration;
    if (entry.kind === 'register' && max && perForm.get(form.id)! > max) {
      throw ValidationError.field(['input', 'slotIds'], `choose at most ${max} slots`);
    }
  }
}

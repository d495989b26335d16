import type { Form, Slot } from '../generated/prisma/client.js';
import { esc } from '../shared/html.js';
import { toLocal } from '../shared/time.js';
import { DEFAULT_LOCALE, dayLabel, slotLabel, timeRange, zoneLabel } from './slot-label.js';

/** What the registrant typed, kept when the page is shown again after an error. */
export interface PageInput {
  name: string;
  email: string;
  phone: string;
  slotIds: string[];
}

export interface PageProblem {
  /** One line for the error summary at the top. */
  summary: string;
  /** Field name -> message, shown beside the field. */
  fields?: Partial<Record<'name' | 'email' | 'phone' | 'slotId', string>>;
  /** Slots that filled up meanwhile: marked and left unchecked. */
  unavailableSlotIds?: string[];
}

export type PageSlot = Pick<Slot, 'id' | 'startAt' | 'endAt' | 'capacity' | 'booked' | 'held' | 'status'> & {
  /** A booking policy of the location refuses it now (too soon, too far ahead, ...): shown, not choosable. */
  refused?: boolean;
};

type PageForm = Pick<Form, 'slug' | 'title' | 'description' | 'timeZone' | 'status' | 'maxSlotsPerRegistration'>;

const EMPTY_INPUT: PageInput = { name: '', email: '', phone: '', slotIds: [] };

/**
 * The public signup page: plain HTML, no JavaScript. Slots are grouped by local date in the form's
 * zone, one fieldset per day; full and cancelled slots, and those a booking policy refuses now, stay
 * visible but cannot be chosen.
 * A draft or closed form is shown with its controls disabled and a notice.
 */
export function renderFormPage(
  form: PageForm,
  slots: PageSlot[],
  input: PageInput = EMPTY_INPUT,
  problem?: PageProblem,
  locale = DEFAULT_LOCALE,
): string {
  const open = form.status === 'PUBLISHED';
  const field = problem?.fields ?? {};
  const failed = new Set(problem?.unavailableSlotIds ?? []);
  const chosen = new Set(input.slotIds.filter((id) => !failed.has(id)));
  const notice =
    form.status === 'DRAFT'
      ? '<p class="notice" role="status">This form is a draft: it is not open for signups yet.</p>'
      : form.status === 'CLOSED'
        ? '<p class="notice" role="status">This form is closed: it no longer takes signups.</p>'
        : '';
  const limit = form.maxSlotsPerRegistration ? ` Choose up to ${form.maxSlotsPerRegistration}.` : '';

  const days = groupByLocalDate(slots, form.timeZone).map(([, daySlots]) => {
    const items = daySlots.map((slot) => slotItem(slot, form.timeZone, chosen.has(slot.id), failed.has(slot.id), locale)).join('\n');
    return `<fieldset class="day"><legend>${esc(dayLabel(daySlots[0]!.startAt, form.timeZone, locale))}</legend>\n${items}\n</fieldset>`;
  });

  const body = `
<h1>${esc(form.title)}</h1>
${form.description ? `<p class="description">${esc(form.description)}</p>` : ''}
${notice}
${problem ? errorSummary(problem, slots, form.timeZone, locale) : ''}
<form method="post" action="${esc(withLang(`/form/${form.slug}`, locale))}">
<fieldset class="whole"${open ? '' : ' disabled'}>
<legend class="visually-hidden">Sign up</legend>
${textField('name', 'Name', 'text', input.name, field.name, 'autocomplete="name" required')}
${textField('email', 'Email', 'email', input.email, field.email, 'autocomplete="email" required')}
${textField('phone', 'Phone (optional)', 'tel', input.phone, field.phone, 'autocomplete="tel"')}
<div class="slots" role="group" aria-labelledby="slots-heading"${field.slotId ? ' aria-describedby="slotId-error"' : ''}>
<h2 id="slots-heading">Choose your time</h2>
<p class="hint">Times are shown in <span class="zone">${esc(zoneLabel(form.timeZone, locale))}</span>.${limit}</p>
${field.slotId ? `<p class="field-error" id="slotId-error">${esc(field.slotId)}</p>` : ''}
${days.length ? days.join('\n') : '<p>There are no upcoming times on this form.</p>'}
</div>
<button type="submit">Sign up</button>
</fieldset>
</form>`;
  return page(form.title, body, locale);
}

/** After a signup: the confirmed slots as "Mon Oct 7, 5:00–6:00 PM" in the form's zone. */
export function renderSuccessPage(form: PageForm, name: string, slots: Pick<Slot, 'startAt' | 'endAt'>[], locale = DEFAULT_LOCALE): string {
  const items = slots.map((s) => `<li>${esc(slotLabel(s.startAt, s.endAt, form.timeZone, locale))}</li>`).join('\n');
  const body = `
<h1>You are signed up</h1>
<p role="status">Thank you, ${esc(name)}. Your ${slots.length === 1 ? 'time is' : 'times are'} confirmed for <strong>${esc(form.title)}</strong>:</p>
<ul class="confirmed">
${items}
</ul>
<p class="hint">Times are in ${esc(zoneLabel(form.timeZone, locale))}.</p>`;
  return page(`Signed up: ${form.title}`, body, locale);
}

export function renderNotFoundPage(): string {
  return page('Form not found', '<h1>Form not found</h1>\n<p>There is no signup form at this address. Check the link you were given.</p>');
}

function slotItem(slot: PageSlot, timeZone: string, checked: boolean, justFilled: boolean, locale: string): string {
  const cancelled = slot.status === 'CANCELLED';
  const full = !cancelled && (slot.status === 'FULL' || slot.status === 'BLOCKED' || slot.capacity - slot.booked - slot.held < 1);
  const refused = !cancelled && !full && Boolean(slot.refused);
  const disabled = cancelled || full || refused;
  const left = slot.capacity - slot.booked - slot.held;
  const badge = cancelled
    ? ' <span class="badge cancelled">Cancelled</span>'
    : full
      ? ` <span class="badge full">${justFilled ? 'Full – just taken' : 'Full'}</span>`
      : refused
        ? ' <span class="badge unavailable">Not available</span>'
        : slot.capacity > 1
          ? ` <span class="places">${left} of ${slot.capacity} places left</span>`
          : '';
  const id = `slot-${esc(slot.id)}`;
  return `<div class="slot${disabled ? ' unavailable' : ''}"><input type="checkbox" id="${id}" name="slotId" value="${esc(slot.id)}"${checked && !disabled ? ' checked' : ''}${disabled ? ' disabled' : ''}><label for="${id}">${esc(timeRange(slot.startAt, slot.endAt, timeZone, locale))}${badge}</label></div>`;
}

function textField(name: string, label: string, type: string, value: string, error: string | undefined, attrs: string): string {
  const describedBy = error ? ` aria-invalid="true" aria-describedby="${name}-error"` : '';
  return `<div class="field"><label for="${name}">${label}</label>
<input id="${name}" name="${name}" type="${type}" value="${esc(value)}" ${attrs}${describedBy}>
${error ? `<p class="field-error" id="${name}-error">${esc(error)}</p>` : ''}</div>`;
}

function errorSummary(problem: PageProblem, slots: PageSlot[], timeZone: string, locale: string): string {
  const filled = slots.filter((s) => problem.unavailableSlotIds?.includes(s.id));
  const list = filled.length ? `<ul>${filled.map((s) => `<li>${esc(slotLabel(s.startAt, s.endAt, timeZone, locale))}</li>`).join('')}</ul>` : '';
  return `<div class="error-summary" role="alert" id="error-summary"><h2>There is a problem</h2><p>${esc(problem.summary)}</p>${list}</div>`;
}

function groupByLocalDate(slots: PageSlot[], timeZone: string): [string, PageSlot[]][] {
  const days = new Map<string, PageSlot[]>();
  for (const slot of slots) {
    const date = toLocal(slot.startAt, timeZone).date;
    days.set(date, [...(days.get(date) ?? []), slot]);
  }
  return [...days];
}

/** The public pages' frame: same look for the signup, success and manage pages; `lang` is the page's locale. */
/** A path on this server that keeps the page's `?lang=` (nothing added for the default locale), for its forms and links. */
export function withLang(path: string, locale: string): string {
  return locale === DEFAULT_LOCALE ? path : `${path}${path.includes('?') ? '&' : '?'}lang=${encodeURIComponent(locale)}`;
}

export function page(title: string, body: string, lang = DEFAULT_LOCALE): string {
  return `<!doctype html>
<html lang="${esc(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>${body}
</main>
</body>
</html>
`;
}

const STYLE = `
body{font-family:system-ui,sans-serif;line-height:1.5;margin:0;background:#f6f7f9;color:#1b1f24}
main{max-width:40rem;margin:0 auto;padding:1.5rem;background:#fff;min-height:100vh}
.field{margin:0 0 1rem}.field label{display:block;font-weight:600}
input[type=text],input[type=email],input[type=tel]{font:inherit;padding:.4rem;width:100%;box-sizing:border-box;border:1px solid #6b7280;border-radius:4px}
fieldset{border:0;padding:0;margin:0}fieldset.day{border:1px solid #d0d5dd;border-radius:6px;padding:.5rem 1rem;margin:0 0 1rem}
legend{font-weight:600}.slot{padding:.2rem 0}.slot input{width:1.2rem;height:1.2rem;vertical-align:middle}
.unavailable label{color:#6b7280}.badge{font-size:.8rem;border-radius:3px;padding:0 .4rem;margin-left:.4rem}
.badge.full{background:#fde2e1;color:#8a1c13}.badge.cancelled,.badge.unavailable{background:#e5e7eb;color:#374151;text-decoration:none}
.places{font-size:.85rem;color:#4b5563;margin-left:.4rem}
.notice{background:#fff7d6;border-left:4px solid #c99a00;padding:.5rem 1rem}
.error-summary{border:3px solid #b42318;padding:.5rem 1rem;margin:0 0 1rem}.field-error{color:#b42318;font-weight:600;margin:.2rem 0}
button{font:inherit;font-weight:600;padding:.6rem 1.4rem;background:#1d4ed8;color:#fff;border:0;border-radius:4px;cursor:pointer}
button:disabled{background:#9ca3af;cursor:not-allowed}:focus-visible{outline:3px solid #b45309;outline-offset:2px}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}`;

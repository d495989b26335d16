import { page, withLang } from '../forms/form-page.js';
import { esc } from '../shared/html.js';
import { DEFAULT_LOCALE, dayLabel, slotLabel, timeRange, zoneLabel } from '../forms/slot-label.js';
import { toLocal } from '../shared/time.js';
import type { FreeTime } from './proposal-times.js';
import type { Proposal } from './proposal.store.js';
import { firstName } from '../calendar/wording.js';
import type { BookingParties } from './parties.js';

/** The no-login pages of proposals: plain HTML, no JavaScript, the signup page's look. */

const EXTRA_STYLE = `<style>
.summary{border:1px solid #d0d5dd;border-radius:6px;padding:.5rem 1rem;margin:0 0 1rem}.summary dt{font-weight:600}.summary dd{margin:0 0 .5rem}
.time{padding:.2rem 0}.time input{width:1.2rem;height:1.2rem;vertical-align:middle}
textarea{font:inherit;width:100%;box-sizing:border-box;border:1px solid #6b7280;border-radius:4px;padding:.4rem}
button.decline{background:#b42318}
</style>`;

export interface ProposeView {
  booking: BookingParties;
  times: FreeTime[];
  /** The booking's pending proposal, if any: a new one replaces it. */
  pending: Proposal | null;
  token: string;
  chosen?: string;
  note?: string;
  problem?: string;
  /** How dates and times are written (`?lang=`), and the page's `lang`. */
  locale?: string;
}

/** "Mon Nov 30, 5:00–6:00 PM Eastern Time (New York) = Mon Nov 30, 10:00–11:00 PM UTC" in the page's locale. */
function when(startAt: Date, endAt: Date, timeZone: string, locale: string): string {
  const local = `${slotLabel(startAt, endAt, timeZone, locale)} ${zoneLabel(timeZone, locale, startAt)}`;
  return timeZone === 'UTC' ? local : `${local} = ${slotLabel(startAt, endAt, 'UTC', locale)} UTC`;
}

function summary(b: BookingParties, locale: string, proposal?: Proposal): string {
  const rows = [
    ['Booking', b.title],
    ['Now', when(b.startAt, b.endAt, b.timeZone, locale)],
    ...(proposal ? [['Proposed', when(proposal.startAt, proposal.endAt, b.timeZone, locale)]] : []),
    ...(proposal?.note ? [['Note', proposal.note]] : []),
  ];
  return `<dl class="summary">${rows.map(([k, v]) => `<dt>${esc(k!)}</dt><dd>${esc(v!)}</dd>`).join('')}</dl>`;
}

function problemBox(problem?: string): string {
  return problem ? `<div class="error-summary" role="alert" id="error-summary"><h2>There is a problem</h2><p>${esc(problem)}</p></div>` : '';
}

/** GET /reschedule: the booking, the host's free times by local day, a note, one button. */
export function renderProposePage(v: ProposeView): string {
  const b = v.booking;
  const locale = v.locale ?? DEFAULT_LOCALE;
  const days = new Map<string, FreeTime[]>();
  for (const t of v.times) {
    const date = toLocal(t.startAt, b.timeZone).date;
    days.set(date, [...(days.get(date) ?? []), t]);
  }
  const groups = [...days.values()].map((times) => {
    const items = times
      .map((t, i) => {
        const id = `time-${toLocal(t.startAt, b.timeZone).date}-${i}`;
        return `<div class="time"><input type="radio" id="${id}" name="time" value="${esc(t.value)}"${v.chosen === t.value ? ' checked' : ''} required><label for="${id}">${esc(timeRange(t.startAt, t.endAt, b.timeZone, locale))}</label></div>`;
      })
      .join('\n');
    return `<fieldset class="day"><legend>${esc(dayLabel(times[0]!.startAt, b.timeZone, locale))}</legend>\n${items}\n</fieldset>`;
  });
  const pending = v.pending
    ? `<p class="notice" role="status">A proposed time is waiting for a decision: ${esc(when(v.pending.startAt, v.pending.endAt, b.timeZone, locale))}. Proposing another time replaces it.</p>`
    : '';
  const body = `${EXTRA_STYLE}
<h1>Propose another time</h1>
${summary(b, locale)}
${pending}
${problemBox(v.problem)}
<form method="post" action="${esc(withLang('/reschedule', locale))}">
<input type="hidden" name="r" value="${esc(v.token)}">
<input type="hidden" name="booking" value="${esc(b.id)}">
<div class="slots" role="group" aria-labelledby="times-heading">
<h2 id="times-heading">Choose a new time</h2>
<p class="hint">Times are shown in ${esc(zoneLabel(b.timeZone, locale))}. The other party approves or declines it; until then the booking keeps its time.</p>
${groups.length ? groups.join('\n') : '<p>There are no free times in the next two weeks.</p>'}
</div>
<div class="field"><label for="note">Note (optional)</label>
<textarea id="note" name="note" rows="3" maxlength="2000">${esc(v.note ?? '')}</textarea></div>
<button type="submit"${groups.length ? '' : ' disabled'}>Propose this time</button>
</form>`;
  return page(`Propose another time: ${b.title}`, body, locale);
}

export function renderProposedPage(b: BookingParties, proposal: Proposal, locale = DEFAULT_LOCALE): string {
  const body = `${EXTRA_STYLE}
<h1>Your proposal was sent</h1>
<p role="status">We asked the other party to approve the new time. You get a calendar update when they approve it, or a mail when they decline.</p>
${summary(b, locale, proposal)}`;
  return page('Proposal sent', body, locale);
}

export type Verdict = 'approve' | 'decline';

/** GET /approve and /decline: shows the proposal; only the button (a POST) decides. */
export function renderDecisionPage(
  b: BookingParties,
  proposal: Proposal,
  verdict: Verdict,
  token: string,
  proposerName: string,
  locale = DEFAULT_LOCALE,
): string {
  const action = verdict === 'approve' ? 'Approve the new time' : 'Decline the new time';
  const body = `${EXTRA_STYLE}
<h1>${verdict === 'approve' ? 'Approve the new time?' : 'Decline the new time?'}</h1>
<p>${esc(firstName(proposerName))} proposes to move this booking.</p>
${summary(b, locale, proposal)}
<p class="hint">${verdict === 'approve' ? 'Approving moves the booking and updates both calendars.' : 'Declining keeps the current time; we let them know.'}</p>
<form method="post" action="${esc(withLang(`/${verdict}`, locale))}">
<input type="hidden" name="t" value="${esc(token)}">
<input type="hidden" name="proposal" value="${esc(proposal.id)}">
<button type="submit"${verdict === 'decline' ? ' class="decline"' : ''}>${action}</button>
</form>`;
  return page(verdict === 'approve' ? 'Approve the new time?' : 'Decline the new time?', body, locale);
}

export function renderDecidedPage(b: BookingParties, proposal: Proposal, verdict: Verdict, already: boolean, locale = DEFAULT_LOCALE): string {
  const title = verdict === 'approve' ? 'New time approved' : 'New time declined';
  const text =
    verdict === 'approve'
      ? `The booking now takes place ${when(proposal.startAt, proposal.endAt, b.timeZone, locale)}. Both calendars receive the update.`
      : `The booking keeps its time: ${when(b.startAt, b.endAt, b.timeZone, locale)}. We let the other party know.`;
  const body = `${EXTRA_STYLE}
<h1>${title}</h1>
<p role="status">${already ? 'This was already decided; nothing more changed. ' : ''}${esc(text)}</p>`;
  return page(title, body, locale);
}

/** A link that cannot be used, or a proposal that is closed: what happened and how to start again. */
export function renderProblemPage(title: string, message: string): string {
  const body = `${EXTRA_STYLE}
<h1>${esc(title)}</h1>
<div class="error-summary" role="alert"><p>${esc(message)}</p><p>Nothing was changed.</p></div>`;
  return page(title, body);
}

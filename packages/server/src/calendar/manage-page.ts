import { page, withLang } from '../forms/form-page.js';
import { esc } from '../shared/html.js';
import type { MagicLinkProblem, MagicLinkRole } from '../links/magic-links.js';
import { eventTitle, type BookingView } from './booking-mail-content.js';
import { DEFAULT_LOCALE, slotLabel, zoneLabel } from '../forms/slot-label.js';
import { utcWhen } from './wording.js';

const STATUS_TEXT: Record<string, string> = { CONFIRMED: 'Confirmed', HELD: 'Held (not yet confirmed)', CANCELLED: 'Cancelled', EXPIRED: 'Expired' };

export interface ManagePageInput {
  view: BookingView;
  status: string;
  /** Who opened the link: the host or the guest; the title names the other party. */
  role: MagicLinkRole;
  /** The zone this viewer reads times in. */
  timeZone: string;
  /** The manage token of the link, posted back by the buttons. */
  token: string;
  now: Date;
  /** A line shown at the top after an action (e.g. "Your booking is cancelled."). */
  notice?: string;
  /** How dates and times are written (`?lang=`), and the page's `lang`. */
  locale?: string;
}

/** GET /manage?t=...: what, when (the viewer's zone and UTC), where, status, and what can be done. No JavaScript. */
export function renderManagePage(input: ManagePageInput): string {
  const { view, status } = input;
  const locale = input.locale ?? DEFAULT_LOCALE;
  const title = eventTitle(view, input.role);
  const where = view.location ? [view.location.title, view.location.address].filter(Boolean).join(', ') : null;
  const live = (status === 'CONFIRMED' || status === 'HELD') && view.startAt.getTime() > input.now.getTime();
  const body = `
<h1>${esc(title)}</h1>
${input.notice ? `<p class="notice" role="status">${esc(input.notice)}</p>` : ''}
<dl class="booking">
<dt>When</dt><dd>${esc(slotLabel(view.startAt, view.endAt, input.timeZone, locale))} ${esc(zoneLabel(input.timeZone, locale, view.startAt))}<br>${esc(utcWhen(view.startAt, view.endAt))}</dd>
${where ? `<dt>Where</dt><dd>${esc(where)}</dd>` : ''}
<dt>Status</dt><dd>${esc(STATUS_TEXT[status] ?? status)}</dd>
</dl>
${live ? actions(input.token, status === 'HELD', locale) : ''}`;
  return page(title, body, locale);
}

/**
 * What the holder of a manage link can do. Buttons POST (mail scanners follow GET links; a GET
 * never changes anything).
 */
function actions(token: string, held: boolean, locale: string): string {
  const manage = esc(withLang('/manage', locale));
  // A held place (a waitlist offer) is confirmed here; its mail says until when.
  const confirm = held
    ? `<form method="post" action="${manage}">
<input type="hidden" name="t" value="${esc(token)}">
<input type="hidden" name="action" value="confirm">
<button type="submit">Confirm this booking</button>
</form>\n`
    : '';
  const cancel = `<form method="post" action="${manage}">
<input type="hidden" name="t" value="${esc(token)}">
<input type="hidden" name="action" value="cancel">
<button type="submit">Cancel this booking</button>
</form>`;
  // Reschedule proposals (issue #13): /reschedule accepts this same manage token.
  const propose = `<p><a href="${esc(withLang(`/reschedule?r=${encodeURIComponent(token)}`, locale))}">Propose another time</a></p>`;
  return `<div class="actions">\n${confirm}${propose}\n${cancel}\n</div>`;
}

const PROBLEM_TEXT: Record<MagicLinkProblem | 'gone', { title: string; text: string }> = {
  unknown: { title: 'Link not valid', text: 'This link is not valid. Check that you copied the whole link from your mail.' },
  'wrong-purpose': {
    title: 'Link meant for another step',
    text: 'This link is meant for another step. Use the link from the mail for this step, or the manage link in your calendar invitation.',
  },
  used: { title: 'Link already used', text: 'This link has already been used.' },
  expired: { title: 'Link expired', text: 'This link has expired. The booking it was for has ended; contact the organizer if you need help.' },
  gone: { title: 'Booking not found', text: 'The booking this link was for no longer exists.' },
};

export function renderLinkProblemPage(problem: MagicLinkProblem | 'gone'): string {
  const { title, text } = PROBLEM_TEXT[problem];
  return page(title, `<h1>${esc(title)}</h1>\n<p role="alert">${esc(text)}</p>`);
}

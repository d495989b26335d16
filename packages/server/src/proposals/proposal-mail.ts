import { esc } from '../shared/html.js';
import { slotLabel } from '../forms/slot-label.js';
import { firstName, localWhen } from '../calendar/wording.js';
import type { MailContent } from '../mail/mail-content.js';
import type { ProposalFailure } from './proposal-errors.js';
import { otherRole, titleFor, type BookingParties, type Party } from './parties.js';

/**
 * The mails of proposals and calendar replies. Times read in the recipient's zone with UTC beside them;
 * a mail names the other party by first name only, calls the booking what the recipient's invitation
 * calls it, and never shows an address.
 */
export function when(startAt: Date, endAt: Date, timeZone: string): string {
  const local = `${slotLabel(startAt, endAt, timeZone)} (${timeZone})`;
  return timeZone === 'UTC' ? local : `${local} = ${slotLabel(startAt, endAt, 'UTC')} UTC`;
}

interface Range {
  startAt: Date;
  endAt: Date;
}

function mail(subject: string, paragraphs: string[], links: { label: string; url: string }[] = []): MailContent {
  const text = [...paragraphs, ...links.map((l) => `${l.label}: ${l.url}`)].join('\n\n');
  const html = [
    ...paragraphs.map((p) => `<p>${esc(p)}</p>`),
    links.length ? `<p>${links.map((l) => `<a href="${esc(l.url)}">${esc(l.label)}</a>`).join(' &nbsp; ')}</p>` : '',
  ].join('\n');
  return { subject, text: `${text}\n`, html: `<!doctype html><html><body>${html}</body></html>` };
}

/** "your session with Ada" for a session, else the resource: the booking inside a sentence. */
function inSentence(title: string, b: BookingParties): string {
  return b.host ? `your s${title.slice(1)}` : title;
}

/** To the other party: a new time, with Approve and Decline links (each opens a page with one button). */
export function proposalRequestMail(
  b: BookingParties,
  proposer: Party,
  proposed: Range,
  note: string | null,
  links: { approveUrl: string; declineUrl: string },
  zone: string,
): MailContent {
  const who = firstName(proposer.name);
  const title = titleFor(b, otherRole(proposer.role));
  return mail(
    `Proposed new time: ${title}, ${localWhen(proposed.startAt, proposed.endAt, zone)}`,
    [
      `${who} proposes to move ${inSentence(title, b)}.`,
      `Now: ${when(b.startAt, b.endAt, zone)}`,
      `Proposed: ${when(proposed.startAt, proposed.endAt, zone)}`,
      ...(note ? [`Note from ${who}: ${note}`] : []),
      'Approve to move the booking (both calendars are updated), or decline to keep the current time.',
    ],
    [
      { label: 'Approve', url: links.approveUrl },
      { label: 'Decline', url: links.declineUrl },
    ],
  );
}

/** To the proposer: the other party declined; nothing changed. */
export function proposalDeclinedMail(b: BookingParties, decider: Party, proposed: Range, proposeUrl: string, zone: string): MailContent {
  return mail(
    `Declined: new time for ${titleFor(b, otherRole(decider.role))}`,
    [
      `${firstName(decider.name)} declined the time you proposed (${when(proposed.startAt, proposed.endAt, zone)}).`,
      `The booking keeps its time: ${when(b.startAt, b.endAt, zone)}`,
    ],
    [{ label: 'Propose another time', url: proposeUrl }],
  );
}

const FAILURE_TEXT: Record<ProposalFailure, string> = {
  TIME_UNAVAILABLE: 'the proposed time is no longer available',
  BOOKING_CHANGED: 'the booking changed after the time was proposed',
  BOOKING_NOT_ACTIVE: 'the booking is no longer active',
};

/** To a party: an approval could not be applied (with a link to propose again while the booking is live). */
export function proposalFailedMail(
  b: BookingParties,
  proposed: Range,
  reason: ProposalFailure,
  proposeUrl: string | null,
  to: Pick<Party, 'role' | 'timeZone'>,
): MailContent {
  const active = b.status === 'CONFIRMED';
  const zone = to.timeZone;
  return mail(
    `Not moved: ${titleFor(b, to.role)}`,
    [
      `The booking could not be moved to ${when(proposed.startAt, proposed.endAt, zone)}: ${FAILURE_TEXT[reason]}.`,
      active ? `It keeps its time: ${when(b.startAt, b.endAt, zone)}` : 'The booking is no longer active.',
    ],
    active && proposeUrl ? [{ label: 'Propose another time', url: proposeUrl }] : [],
  );
}

/** To the host (strict policy: `cancelled`) or staff (soft policy): a party declined the invitation in their calendar. */
export function declineNoticeMail(b: BookingParties, decliner: Party, cancelled: boolean, zone: string): MailContent {
  // Staff think in resources; the host reads the booking as their invitation names it.
  const title = cancelled ? titleFor(b, 'host') : b.title;
  return mail(`Declined: ${title}, ${localWhen(b.startAt, b.endAt, zone)}`, [
    `${firstName(decliner.name)} (${decliner.role}) declined ${cancelled ? inSentence(title, b) : title} at ${when(b.startAt, b.endAt, zone)} in their calendar.`,
    cancelled
      ? 'The booking was cancelled; its time is free again.'
      : 'The booking stays as it is (soft decline policy); decide whether to cancel or reschedule it.',
  ]);
}

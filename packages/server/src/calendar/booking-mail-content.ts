import { esc } from '../shared/html.js';
import type { MailContent } from '../mail/mail-content.js';
import { renderIcs, type InviteMethod } from './ics.js';
import { firstName, localWhen, utcWhen } from './wording.js';

export type BookingMailKind = 'invitation' | 'update' | 'cancellation' | 'reminder';

/** A booking as its mails show it (no contact data: recipients carry their own). */
export interface BookingView {
  id: string;
  uid: string;
  sequence: number;
  startAt: Date;
  endAt: Date;
  /** The resource's name, or the form's title. */
  what: string;
  /** The booking's own title (shown instead of `what` when set), the customer's notes, the party. */
  title: string | null;
  notes: string | null;
  partySize: number;
  /** An update of the details only (the time stayed). */
  detailsOnly?: boolean;
  /** Two-party session (a PERSON with an email): the names of host and guest. */
  session: { hostName: string; guestName: string } | null;
  location: { title: string; address: string | null } | null;
  /** The location's (or form's) zone: the default reading of every time. */
  timeZone: string;
}

export interface Recipient {
  role: 'host' | 'guest';
  email: string;
  name: string;
  /** The zone this person reads times in. */
  timeZone: string;
}

export interface ContentSettings {
  from: string;
  /** ICS_TIME_ZONES=local: the zone the calendar part writes local times in; null: UTC. */
  icsTimeZone: (bookingZone: string) => string | null;
}

const SUBJECT: Record<BookingMailKind, string> = { invitation: 'Invitation', update: 'Updated', cancellation: 'Cancelled', reminder: 'Reminder' };
export const METHOD_OF: Record<BookingMailKind, InviteMethod | null> = {
  invitation: 'REQUEST',
  update: 'REQUEST',
  cancellation: 'CANCEL',
  reminder: null,
};

/** "Session with Ada" for a session (the other party's first name), else the resource or form. */
export function eventTitle(view: Pick<BookingView, 'title' | 'what' | 'session'>, role: Recipient['role']): string {
  if (view.title) return view.title;
  if (!view.session) return view.what;
  return `Session with ${firstName(role === 'host' ? view.session.guestName : view.session.hostName)}`;
}

function leadLine(kind: BookingMailKind, view: BookingView, role: Recipient['role']): string {
  // "Your session with Ada" / "Your booking of Studio Room"
  const thing = view.session && !view.title ? `Your s${eventTitle(view, role).slice(1)}` : `Your booking of ${eventTitle(view, role)}`;
  switch (kind) {
    case 'invitation':
      return `${thing} is confirmed.`;
    case 'update':
      return view.detailsOnly ? `${thing} has been updated.` : `${thing} has moved to a new time.`;
    case 'cancellation':
      return `${thing} has been cancelled.`;
    case 'reminder':
      return `A reminder: y${thing.slice(1)} is coming up.`;
  }
}

/** One recipient's mail about one booking: subject, text, HTML and (for invites) the calendar part. */
export function composeBookingMail(
  kind: BookingMailKind,
  view: BookingView,
  to: Recipient,
  manageUrl: string,
  settings: ContentSettings,
  now: Date,
): MailContent {
  const title = eventTitle(view, to.role);
  const when = localWhen(view.startAt, view.endAt, to.timeZone);
  const local = `${when} (${to.timeZone})`;
  const utc = utcWhen(view.startAt, view.endAt);
  const where = view.location ? [view.location.title, view.location.address].filter(Boolean).join(', ') : null;
  const linkText = kind === 'cancellation' ? 'See this booking' : 'See or cancel this booking';
  const lead = leadLine(kind, view, to.role);
  const party = view.partySize > 1 ? `${view.partySize} people` : null;
  const text = [
    `Hello ${firstName(to.name)},`,
    '',
    lead,
    '',
    `What:  ${title}`,
    `When:  ${local}`,
    `       ${utc}`,
    ...(where ? [`Where: ${where}`] : []),
    ...(party ? [`Party: ${party}`] : []),
    ...(view.notes ? ['', 'Notes:', view.notes] : []),
    '',
    `${linkText}: ${manageUrl}`,
    '',
  ].join('\n');
  const html = [
    `<p>Hello ${esc(firstName(to.name))},</p>`,
    `<p>${esc(lead)}</p>`,
    '<table role="presentation">',
    `<tr><th align="left">What</th><td>${esc(title)}</td></tr>`,
    `<tr><th align="left">When</th><td>${esc(local)}<br>${esc(utc)}</td></tr>`,
    ...(where ? [`<tr><th align="left">Where</th><td>${esc(where)}</td></tr>`] : []),
    ...(party ? [`<tr><th align="left">Party</th><td>${esc(party)}</td></tr>`] : []),
    ...(view.notes ? [`<tr><th align="left">Notes</th><td>${esc(view.notes).replace(/\n/g, '<br>')}</td></tr>`] : []),
    '</table>',
    `<p><a href="${esc(manageUrl)}">${esc(linkText)}</a></p>`,
  ].join('\n');
  const method = METHOD_OF[kind];
  const calendar = method
    ? {
        method,
        ics: renderIcs({
          method,
          organizer: settings.from,
          attendee: { email: to.email, name: to.name },
          timeZone: settings.icsTimeZone(view.timeZone),
          now,
          events: [
            {
              uid: view.uid,
              sequence: view.sequence,
              startAt: view.startAt,
              endAt: view.endAt,
              summary: title,
              description: [lead, ...(party ? [`Party: ${party}`] : []), ...(view.notes ? [view.notes] : []), `${linkText}: ${manageUrl}`].join(
                '\n\n',
              ),
              location: view.location,
              url: manageUrl,
            },
          ],
        }),
      }
    : undefined;
  return {
    subject: `${SUBJECT[kind]}: ${title}, ${when}`,
    text,
    html,
    ...(calendar ? { calendar } : {}),
  };
}

import MailComposer from 'nodemailer/lib/mail-composer';
import { esc } from '../shared/html.js';
import type { IcsMethod, MailContent } from './mail-content.js';

/** One outbox row made ready to send: who it goes to and the stored content. */
export interface MessageToCompose {
  /** The row's Message-ID, `<id@domain>`: the same on every attempt, so a redelivery is recognisable. */
  messageId: string;
  from: string;
  to: string;
  content: MailContent;
  /** NOTIFICATIONS_REDIRECT_TO: the mail goes there and names `to` as the intended recipient. */
  redirectTo?: string;
  date: Date;
}

export interface ComposedMessage {
  /** Envelope sender and recipient (the redirect address when redirecting). */
  envelope: { from: string; to: string };
  /** The whole RFC 5322 message, exactly as sent over SMTP or written as .eml. */
  raw: Buffer;
}

/** The calendar part does not match its own ICS: a bug in whoever queued it, never retried. */
export class MailContentError extends Error {}

/** The METHOD property of an iCalendar object (its VCALENDAR's, not a component's). */
export function icsMethodOf(ics: string): string | undefined {
  // Unfold continuation lines (RFC 5545 3.1) before reading properties.
  const unfolded = ics.replace(/\r?\n[ \t]/g, '');
  return unfolded
    .match(/^METHOD(?:;[^:\r\n]*)?:([^\r\n]*)$/im)?.[1]
    ?.trim()
    .toUpperCase();
}

/** Refuses a calendar part whose declared method differs from the ICS METHOD (Outlook ignores such invites). */
export function checkCalendarPart(calendar: { method: IcsMethod; ics: string }): void {
  const inIcs = icsMethodOf(calendar.ics);
  if (inIcs !== calendar.method) {
    throw new MailContentError(`calendar method ${calendar.method} does not match the ICS METHOD ${inIcs ?? '(none)'}`);
  }
}

/**
 * Builds the MIME message. With a calendar part: multipart/mixed holding multipart/alternative
 * (text/plain, text/html, text/calendar; method=M; charset=utf-8) and the same ICS as an
 * `invite.ics` attachment (application/ics), the way Gmail sends invites. Without one:
 * multipart/alternative (or a single text/plain part when there is no html).
 */
export async function composeMessage(message: MessageToCompose): Promise<ComposedMessage> {
  const { content } = message;
  if (content.calendar) checkCalendarPart(content.calendar);
  const intended = message.redirectTo ? message.to : undefined;
  const to = message.redirectTo ?? message.to;
  const composer = new MailComposer({
    from: message.from,
    to,
    subject: content.subject,
    messageId: message.messageId,
    date: message.date,
    text: intended ? `Intended for: ${intended}\n\n${content.text}` : content.text,
    html: content.html === undefined ? undefined : intended ? `<p>Intended for: ${esc(intended)}</p>\n${content.html}` : content.html,
    icalEvent: content.calendar ? { method: content.calendar.method, filename: 'invite.ics', content: content.calendar.ics } : undefined,
    headers: {
      // RFC 3834: an automatic mail; vacation responders do not answer it.
      'Auto-Submitted': 'auto-generated',
      ...(intended ? { 'X-Slotwise-Original-To': intended } : {}),
    },
  });
  const raw = await composer.compile().build();
  return { envelope: { from: message.from, to }, raw };
}

import type { SqlQuery } from '../db/database.js';
import type { Booking } from '../generated/prisma/client.js';
import { esc } from '../shared/html.js';
import { slotLabel } from '../forms/slot-label.js';
import { issueMagicLinks } from '../links/magic-links.js';
import type { OutboxMail } from '../mail/outbox.js';
import { selectFormForMail } from './calendar.store.js';
import { renderIcs } from './ics.js';
import { manageLinkExpiry, type MailSettings } from './mail-settings.js';
import { firstName, localWhen, utcWhen } from './wording.js';

export interface RegistrationMailInput {
  registrationId: string;
  formId: string;
  registrant: { name: string; email: string };
  /** The registration's bookings, one per chosen slot. */
  bookings: Pick<Booking, 'id' | 'startAt' | 'endAt' | 'icsUid' | 'icsSequence'>[];
}

/**
 * Seed 000 MR-TS-6: the registrant gets one mail listing every chosen slot ("Mon Oct 7, 5:00–6:00
 * PM", the form's zone) with one VEVENT per slot; the form's creator (if any) gets a notice with the
 * same list. Written in the registration's transaction.
 */
export async function registrationMails(tx: SqlQuery, input: RegistrationMailInput, settings: MailSettings, now: Date): Promise<OutboxMail[]> {
  const form = await selectFormForMail(tx, input.formId);
  const slots = [...input.bookings].sort((a, b) => a.startAt.getTime() - b.startAt.getTime());
  const zone = form!.time_zone;
  const lines = slots.map((b) => ({ booking: b, label: slotLabel(b.startAt, b.endAt, zone), utc: utcWhen(b.startAt, b.endAt) }));
  const tokens = await issueMagicLinks(
    tx,
    slots.map((b) => ({
      purpose: 'manage' as const,
      bookingId: b.id,
      role: 'guest' as const,
      email: input.registrant.email,
      expiresAt: manageLinkExpiry(b.endAt, now),
    })),
  );
  const links = new Map(slots.map((b, i) => [b.id, `${settings.publicUrl}/manage?t=${encodeURIComponent(tokens[i]!)}`]));
  const where = form!.location_name ? [form!.location_name, form!.location_address].filter(Boolean).join(', ') : null;
  const more = slots.length > 1 ? ` (+${slots.length - 1} more)` : '';
  const listText = lines.map((l) => `- ${l.label} (${l.utc})\n  See or cancel: ${links.get(l.booking.id)}`).join('\n');
  const listHtml = lines
    .map((l) => `<li>${esc(l.label)} <small>(${esc(l.utc)})</small> <a href="${esc(links.get(l.booking.id)!)}">See or cancel</a></li>`)
    .join('\n');
  const icsTimeZone = settings.icsTimeZone(zone);

  const registrant: OutboxMail = {
    kind: 'registration',
    to: input.registrant.email,
    registrationId: input.registrationId,
    dedupeKey: `registration:${input.registrationId}`,
    content: {
      // With the zone's abbreviation, as a booking's invitation subject reads.
      subject: `Invitation: ${form!.title}, ${localWhen(slots[0]!.startAt, slots[0]!.endAt, zone)}${more}`,
      text: [
        `Hello ${firstName(input.registrant.name)},`,
        '',
        `You are signed up for ${form!.title}:`,
        '',
        listText,
        '',
        `Times are in ${zone}.`,
        ...(where ? [`Where: ${where}`] : []),
        '',
      ].join('\n'),
      html: [
        `<p>Hello ${esc(firstName(input.registrant.name))},</p>`,
        `<p>You are signed up for <strong>${esc(form!.title)}</strong>:</p>`,
        `<ul>\n${listHtml}\n</ul>`,
        `<p>Times are in ${esc(zone)}.</p>`,
        ...(where ? [`<p>Where: ${esc(where)}</p>`] : []),
      ].join('\n'),
      calendar: {
        method: 'REQUEST',
        ics: renderIcs({
          method: 'REQUEST',
          organizer: settings.from,
          attendee: input.registrant,
          timeZone: icsTimeZone,
          now,
          events: lines.map((l) => ({
            uid: l.booking.icsUid,
            sequence: l.booking.icsSequence,
            startAt: l.booking.startAt,
            endAt: l.booking.endAt,
            summary: form!.title,
            description: `You are signed up for ${form!.title}.\n\nSee or cancel: ${links.get(l.booking.id)}`,
            location: form!.location_name ? { title: form!.location_name, address: form!.location_address } : null,
            url: links.get(l.booking.id),
          })),
        }),
      },
    },
  };
  if (!form!.creator_email) return [registrant];
  const creator: OutboxMail = {
    kind: 'registration-notice',
    to: form!.creator_email,
    registrationId: input.registrationId,
    dedupeKey: `registration:${input.registrationId}:creator`,
    content: {
      subject: `New signup: ${form!.title}, ${input.registrant.name}`,
      text: [
        `${input.registrant.name} signed up for ${form!.title}:`,
        '',
        lines.map((l) => `- ${l.label} (${l.utc})`).join('\n'),
        '',
        `Times are in ${zone}.`,
        '',
      ].join('\n'),
      html: [
        `<p>${esc(input.registrant.name)} signed up for <strong>${esc(form!.title)}</strong>:</p>`,
        `<ul>\n${lines.map((l) => `<li>${esc(l.label)} <small>(${esc(l.utc)})</small></li>`).join('\n')}\n</ul>`,
        `<p>Times are in ${esc(zone)}.</p>`,
      ].join('\n'),
    },
  };
  return [registrant, creator];
}

import { slotLabel } from '../forms/slot-label.js';
import { toLocal } from '../shared/time.js';

// Words in front of a name that are not the name people are called by ("Dr. Ada Moreno" -> Ada).
const TITLES = new Set(['dr', 'prof', 'mr', 'mrs', 'ms', 'mx', 'sir', 'dame', 'coach', 'rev']);

/** The name a person is greeted by: the first word that is not a title. */
export function firstName(fullName: string): string {
  const words = fullName.trim().split(/\s+/);
  return words.find((w) => !TITLES.has(w.replace(/\.$/, '').toLowerCase())) ?? words[0] ?? fullName;
}

// A booking's mails (host and guest, their reminders) show the same label: its four Intl calls are
// made once. Bounded: a batch of mails needs only its own few.
const recentLabels = new Map<string, string>();
const MAX_RECENT_LABELS = 256;

/** "Mon Nov 2, 9:00–9:30 AM EST" in the zone. */
export function localWhen(startAt: Date, endAt: Date, timeZone: string): string {
  const key = `${startAt.getTime()}|${endAt.getTime()}|${timeZone}`;
  let label = recentLabels.get(key);
  if (label === undefined) {
    if (recentLabels.size >= MAX_RECENT_LABELS) recentLabels.clear();
    recentLabels.set(key, (label = `${slotLabel(startAt, endAt, timeZone)} ${zoneName(startAt, timeZone)}`));
  }
  return label;
}

/** "2026-11-02 14:00–14:30 UTC" (both dates when the end falls on another day). */
export function utcWhen(startAt: Date, endAt: Date): string {
  const start = toLocal(startAt, 'UTC');
  const end = toLocal(endAt, 'UTC');
  return start.date === end.date ? `${start.date} ${start.time}–${end.time} UTC` : `${start.date} ${start.time} – ${end.date} ${end.time} UTC`;
}

// Making an Intl.DateTimeFormat costs far more than using one: one per zone, kept.
const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** The zone's short name at that instant: "EST", "CEST", or "GMT+1" where there is no abbreviation. */
export function zoneName(instant: Date | number, timeZone: string): string {
  let format = zoneFormats.get(timeZone);
  if (!format) zoneFormats.set(timeZone, (format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'short' })));
  return format.formatToParts(instant).find((p) => p.type === 'timeZoneName')?.value ?? timeZone;
}

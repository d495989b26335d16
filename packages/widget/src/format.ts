/** Date and label helpers. Dates are local YYYY-MM-DD strings in the resource's zone; no zone math here. */

const dayFormat = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' });
const rangeFormat = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

const utc = (date: string) => Date.UTC(+date.slice(0, 4), +date.slice(5, 7) - 1, +date.slice(8, 10));

/** Today's date on the wall clock of `timeZone`. */
export function todayIn(timeZone: string, now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

export function addDays(date: string, days: number): string {
  return new Date(utc(date) + days * 86_400_000).toISOString().slice(0, 10);
}

/** UTC midnight of a date, as an instant: windows are padded around it to cover every zone. */
export function utcMidnight(date: string): number {
  return utc(date);
}

/** "Mon 23 Nov" */
export function dayLabel(date: string): string {
  return dayFormat.format(utc(date));
}

/** "23 Nov 2026 – 29 Nov 2026" */
export function weekLabel(first: string, last: string): string {
  return `${rangeFormat.format(utc(first))} – ${rangeFormat.format(utc(last))}`;
}

export interface SlotLike {
  localDate: string;
  localStart: string;
  localEnd: string;
  remaining: number;
  status: string;
}

export function placesLabel(slot: SlotLike): string {
  if (slot.status === 'FULL' || (slot.remaining === 0 && slot.status !== 'BLOCKED')) return 'Full';
  if (slot.status === 'BLOCKED') return 'Unavailable';
  return slot.remaining === 1 ? '1 place left' : `${slot.remaining} places left`;
}

/**
 * "09:00, 2 places left, Mon 23 Nov, until 09:30" — what a screen reader announces for a slot button. It starts
 * with the button's visible words in their order, so speech users can say what they see (WCAG 2.5.3).
 */
export function slotLabel(slot: SlotLike): string {
  return `${slot.localStart}, ${placesLabel(slot)}, ${dayLabel(slot.localDate)}, until ${slot.localEnd}`;
}

export function timeOf(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone }).format(new Date(iso));
}

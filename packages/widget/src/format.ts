/**
 * Date and label helpers. Dates are local YYYY-MM-DD strings in the resource's zone; no zone math here. Dates and
 * times are written by `@slotwise/sdk/format`, as the server's pages write them.
 */
import type { TimeFormat } from '@slotwise/sdk/format';

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

export interface SlotLike {
  startAt: string;
  endAt: string;
  timeZone: string;
  localDate: string;
  remaining: number;
  status: string;
}

export function placesLabel(slot: SlotLike): string {
  if (slot.status === 'FULL' || (slot.remaining === 0 && slot.status !== 'BLOCKED')) return 'Full';
  if (slot.status === 'BLOCKED') return 'Unavailable';
  return slot.remaining === 1 ? '1 place left' : `${slot.remaining} places left`;
}

/**
 * "9:00 AM, 2 places left, Mon Nov 23, until 9:30 AM" — what a screen reader announces for a slot button. It
 * starts with the button's visible words in their order, so speech users can say what they see (WCAG 2.5.3).
 */
export function slotLabel(slot: SlotLike, format: TimeFormat): string {
  return `${format.time(slot.startAt, slot.timeZone)}, ${placesLabel(slot)}, ${format.day(slot.localDate)}, until ${format.time(slot.endAt, slot.timeZone)}`;
}

// The one formatting module the widget uses too (`@slotwise/sdk/format`), read from the workspace like the
// persisted-operations manifest: the server does not depend on the SDK package (the SDK's tests run the server).
import { DEFAULT_LOCALE, resolveLocale, timeFormat } from '../../../sdk/src/format.js';

export { DEFAULT_LOCALE, resolveLocale, timeFormat };

/**
 * How a slot reads to a registrant, in the form's zone: "Mon Oct 7, 5:00–6:00 PM" (seed 000's wording, the
 * default locale; "11:30 AM–12:30 PM" when the half of the day changes), "Mon 7 Oct, 17:00–18:00" in en-GB.
 */
export function slotLabel(startAt: Date, endAt: Date, timeZone: string, locale?: string): string {
  return timeFormat(locale).slot(startAt, endAt, timeZone);
}

/** "Mon Oct 7" in the zone. */
export function dayLabel(instant: Date, timeZone: string, locale?: string): string {
  return timeFormat(locale).day(instant, timeZone);
}

/** "5:00–6:00 PM", or "11:30 AM–12:30 PM". */
export function timeRange(startAt: Date, endAt: Date, timeZone: string, locale?: string): string {
  return timeFormat(locale).timeRange(startAt, endAt, timeZone);
}

/** "Eastern Time (New York)". */
export function zoneLabel(timeZone: string, locale?: string, at?: Date): string {
  return timeFormat(locale).zone(timeZone, at);
}

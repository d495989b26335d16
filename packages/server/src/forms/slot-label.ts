/**
 * How a slot reads to a registrant, in the form's zone: "Mon Oct 7, 5:00–6:00 PM"
 * (seed 000's wording; "11:30 AM–12:30 PM" when the half of the day changes).
 * Built from Intl parts so ICU's narrow no-break spaces and commas never leak in.
 */
export function slotLabel(startAt: Date, endAt: Date, timeZone: string): string {
  return `${dayLabel(startAt, timeZone)}, ${timeRange(startAt, endAt, timeZone)}`;
}

/** "Mon Oct 7" in the zone. */
export function dayLabel(instant: Date, timeZone: string): string {
  const parts = partsOf(dayFormat(timeZone), instant);
  return `${parts.weekday} ${parts.month} ${parts.day}`;
}

/** "5:00–6:00 PM", or "11:30 AM–12:30 PM". */
export function timeRange(startAt: Date, endAt: Date, timeZone: string): string {
  const start = partsOf(timeFormat(timeZone), startAt);
  const end = partsOf(timeFormat(timeZone), endAt);
  const startText = `${start.hour}:${start.minute}`;
  const endText = `${end.hour}:${end.minute} ${end.dayPeriod}`;
  return start.dayPeriod === end.dayPeriod ? `${startText}–${endText}` : `${startText} ${start.dayPeriod}–${endText}`;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function cached(key: string, make: () => Intl.DateTimeFormat) {
  let format = formats.get(key);
  if (!format) formats.set(key, (format = make()));
  return format;
}

const dayFormat = (timeZone: string) =>
  cached(`d:${timeZone}`, () => new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', month: 'short', day: 'numeric' }));
const timeFormat = (timeZone: string) =>
  cached(`t:${timeZone}`, () => new Intl.DateTimeFormat('en-US', { timeZone, hour: 'numeric', minute: '2-digit', hour12: true }));

function partsOf(format: Intl.DateTimeFormat, instant: Date): Record<string, string> {
  return Object.fromEntries(format.formatToParts(instant).map((p) => [p.type, p.value]));
}

/**
 * How Slotwise writes times for people, in one place: the widget, the React examples and the server's pages
 * (`@slotwise/sdk/format`). Intl does the locale work; the few touches here keep the words the same everywhere:
 * no commas inside a day ("Mon Nov 30"), plain spaces instead of ICU's narrow ones, an en dash with no spaces
 * in a range ("5:00–6:00 PM"), and zones as people say them ("Eastern Time (New York)").
 */

/** The locale when none is asked for: the product's own wording ("Mon Oct 7, 5:00–6:00 PM"). */
export const DEFAULT_LOCALE = 'en-US';

export interface TimeFormat {
  /** The locale in use, as Intl resolved it. */
  readonly locale: string;
  /** "Mon Nov 30" (en-US), "Mon 30 Nov" (en-GB): a local date (YYYY-MM-DD) as it is, or an instant in `timeZone`. */
  day(value: string | Date, timeZone?: string): string;
  /** "5:00 PM" (en-US), "17:00" (en-GB). */
  time(instant: string | Date, timeZone: string): string;
  /** "5:00–6:00 PM", "11:30 AM–12:30 PM" (en-US), "17:00–18:00" (en-GB). */
  timeRange(start: string | Date, end: string | Date, timeZone: string): string;
  /** "Mon Nov 30, 5:00–6:00 PM": the day the slot starts on, then its times. */
  slot(start: string | Date, end: string | Date, timeZone: string): string;
  /** "Nov 23 – 29, 2026" (en-US), "23 – 29 Nov 2026" (en-GB): two local dates (YYYY-MM-DD). */
  dateRange(first: string, last: string): string;
  /** "Eastern Time (New York)": the zone's generic name with its city; "UTC" stays "UTC". */
  zone(timeZone: string, at?: string | Date): string;
}

/** The locale to use for a requested tag ("de", "en-GB", a `lang` attribute, …): the tag if Intl knows it, else `fallback`. */
export function resolveLocale(requested: string | null | undefined, fallback = DEFAULT_LOCALE): string {
  if (!requested) return fallback;
  try {
    return Intl.DateTimeFormat.supportedLocalesOf([requested])[0] ?? fallback;
  } catch {
    return fallback; // not a well-formed tag
  }
}

const byLocale = new Map<string, TimeFormat>();

/** The formatter for a locale (`resolveLocale` applied; made once per locale). */
export function timeFormat(locale?: string | null): TimeFormat {
  const tag = resolveLocale(locale);
  let format = byLocale.get(tag);
  if (!format) byLocale.set(tag, (format = makeTimeFormat(tag)));
  return format;
}

const toDate = (value: string | Date) => (typeof value === 'string' ? new Date(value) : value);
const isLocalDate = (value: string | Date): value is string => typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value);
/** A local date as the instant of its UTC midnight, to be formatted in UTC. */
const utcMidnight = (date: string) => new Date(Date.UTC(+date.slice(0, 4), +date.slice(5, 7) - 1, +date.slice(8, 10)));
/** ICU's thin and narrow no-break spaces become plain ones. */
const plain = (text: string) => text.replace(/[\u2009\u202f\u00a0]/g, ' ');
/** …and a time range's dash loses its spaces ("5:00–6:00 PM"). */
const tidy = (text: string) => plain(text).replace(/ – /g, '–');

function makeTimeFormat(locale: string): TimeFormat {
  const formats = new Map<string, Intl.DateTimeFormat>();
  const cached = (kind: string, timeZone: string, options: Intl.DateTimeFormatOptions) => {
    const key = `${kind}:${timeZone}`;
    let format = formats.get(key);
    if (!format) formats.set(key, (format = new Intl.DateTimeFormat(locale, { ...options, timeZone })));
    return format;
  };
  const dayOptions: Intl.DateTimeFormatOptions = { weekday: 'short', month: 'short', day: 'numeric' };
  const timeOptions: Intl.DateTimeFormatOptions = { hour: 'numeric', minute: '2-digit' };

  const self: TimeFormat = {
    locale: new Intl.DateTimeFormat(locale).resolvedOptions().locale,
    day(value, timeZone = 'UTC') {
      const [instant, zone] = isLocalDate(value) ? [utcMidnight(value), 'UTC'] : [toDate(value), timeZone];
      // "Mon, Nov 30" reads as two things in a list of times: the day's parts without commas.
      return cached('day', zone, dayOptions)
        .formatToParts(instant)
        .map((p) => (p.type === 'literal' ? p.value.replace(/,\s*/g, ' ') : p.value))
        .join('')
        .replace(/\s+/g, ' ')
        .trim();
    },
    time: (instant, timeZone) => tidy(cached('time', timeZone, timeOptions).format(toDate(instant))),
    timeRange(start, end, timeZone) {
      const [from, to] = [toDate(start), toDate(end)];
      const date = cached('date', timeZone, { year: 'numeric', month: 'numeric', day: 'numeric' });
      // Within a day Intl shares what both ends have ("5:00–6:00 PM"); past midnight it would add both dates.
      if (date.format(from) !== date.format(to)) return `${self.time(from, timeZone)}–${self.time(to, timeZone)}`;
      return tidy(cached('time', timeZone, timeOptions).formatRange(from, to));
    },
    slot: (start, end, timeZone) => `${self.day(toDate(start), timeZone)}, ${self.timeRange(start, end, timeZone)}`,
    dateRange: (first, last) =>
      plain(cached('dates', 'UTC', { day: 'numeric', month: 'short', year: 'numeric' }).formatRange(utcMidnight(first), utcMidnight(last))),
    zone(timeZone, at = new Date()) {
      if (!timeZone.includes('/')) return timeZone;
      const generic = cached('zone', timeZone, { timeZoneName: 'longGeneric' })
        .formatToParts(toDate(at))
        .find((p) => p.type === 'timeZoneName')?.value;
      const city = timeZone.slice(timeZone.lastIndexOf('/') + 1).replace(/_/g, ' ');
      return generic ? `${plain(generic)} (${city})` : city;
    },
  };
  return self;
}

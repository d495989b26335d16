import * as chrono from 'chrono-node';
import { Temporal } from 'temporal-polyfill';
import { formatWallTime, todayIn } from '../../shared/time.js';
import { DAY, NUMBER, TIME, dayNumber, dayRange, readWindow, toNumber } from './phrases.js';
import type { ExtractedForm, Understood } from './extracted-form.js';
import { FormTextNotUnderstoodError } from './form-text.errors.js';
import { statedZones } from './zones.js';

const CONSUMED = '\u0001';
// Words that carry no constraint of their own once the phrases around them are read.
const FILLER = new Set(
  'and or & on at from the a an every each for of in with slots slot sessions session appointments appointment times time per between long lasting weekly please create make new set up signup sign-up sign form sheet starting lessons'.split(
    ' ',
  ),
);
const WEEKDAY_NAMES = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

export interface ExtractOptions {
  now: Date;
  /** The zone used when the text states none (argument, caller's default or DEFAULT_TIME_ZONE). */
  fallbackZone: string;
  fallbackZoneSource: string;
}

/** Marks phrases of the text as read, so each is read once and what is left over can be named. */
class Scanner {
  masked: string;
  readonly understood: Understood[] = [];
  private readonly starts: number[] = [];

  constructor(readonly text: string) {
    this.masked = text;
  }

  take(pattern: RegExp, read: (m: RegExpExecArray) => string | null): void {
    for (const m of [...this.masked.matchAll(new RegExp(pattern.source, 'gi'))]) {
      if (m[0].includes(CONSUMED)) continue;
      const meaning = read(m);
      if (meaning !== null) this.consume(m.index, m[0].length, meaning);
    }
  }

  consume(index: number, length: number, meaning: string) {
    const phrase = this.text.slice(index, index + length).trim();
    this.masked = this.masked.slice(0, index) + CONSUMED.repeat(length) + this.masked.slice(index + length);
    this.understood.push({ phrase, meaning });
    this.starts.push(index);
  }

  get firstIndex(): number {
    return this.starts.length ? Math.min(...this.starts) : this.text.length;
  }

  /** Phrases after the title that no rule read, as written. */
  leftovers(from: number): string[] {
    const rest = this.masked.slice(from);
    return rest
      .split(new RegExp(`[${CONSUMED},;()\\[\\]!?/+]+|\\.(?!\\d)|\\s[-–—]\\s`))
      .map((piece) => piece.trim())
      .filter((piece) => piece.split(/\s+/).some((word) => word && !FILLER.has(word.toLowerCase())));
  }
}

/**
 * The offline extractor: a small grammar for schedules plus chrono-node for dates. Deterministic
 * and local. Everything after the title must be read by some rule; leftover phrases, conflicting
 * values and missing parts are refused with FormTextNotUnderstoodError rather than guessed.
 */
export function extractOffline(text: string, options: ExtractOptions): ExtractedForm {
  const s = new Scanner(text.replace(/\s+/g, ' ').trim());
  const conflicts: string[] = [];
  const unparsed: string[] = [];
  const once = <T>(current: T | null, value: T, phrase: string, what: string): T => {
    if (current !== null && current !== value) conflicts.push(`${phrase} (a second ${what})`);
    return value;
  };

  let description: string | null = null;
  s.take(/\b(?:description|note|details)\s*:\s*(.+)$|"([^"]+)"/, (m) => {
    description = (m[1] ?? m[2])!.trim();
    return 'description';
  });

  // Zone first: it decides what "today" and "next Monday" mean.
  let zone: { timeZone: string; phrase: string } | null = null;
  for (const z of statedZones(s.masked)) {
    if (!z.timeZone) {
      unparsed.push(z.phrase);
      s.consume(z.index, z.length, 'an offset with no IANA zone');
      continue;
    }
    if (zone && zone.timeZone !== z.timeZone) conflicts.push(`${z.phrase} (a second time zone)`);
    zone ??= { timeZone: z.timeZone, phrase: z.phrase };
    s.consume(z.index, z.length, `time zone ${z.timeZone}`);
  }
  const timeZone = zone?.timeZone ?? options.fallbackZone;
  const today = Temporal.PlainDate.from(todayIn(timeZone, options.now));

  let window: { start: number; end: number } | null = null;
  s.take(new RegExp(`\\b(?:from\\s+|between\\s+)?(${TIME})\\s*(?:-|–|to|until|till|and)\\s*(${TIME})(?![\\w:])`), (m) => {
    const read = readWindow(m[1]!, m[2]!);
    if (!read) return null;
    if (window && (window.start !== read.start || window.end !== read.end)) conflicts.push(`${m[0].trim()} (a second daily window)`);
    window ??= read;
    return `daily window ${formatWallTime(read.start)}-${formatWallTime(read.end)}`;
  });

  const days = new Set<number>();
  const addDays = (list: number[]) => {
    list.forEach((d) => days.add(d));
    return `days ${list.map((d) => WEEKDAY_NAMES[d]).join(', ')}`;
  };
  s.take(new RegExp(`\\b(${DAY})\\s*(?:-|–|to|through|thru)\\s*(${DAY})(?!\\w)`), (m) => addDays(dayRange(dayNumber(m[1]!), dayNumber(m[2]!))));

  let startDate: Temporal.PlainDate | null = null;
  let endDate: Temporal.PlainDate | null = null;
  let weeks: number | null = null;
  s.take(/\bnext week\b/, () => {
    startDate = once(startDate, today.add({ days: 8 - today.dayOfWeek }), 'next week', 'start date');
    weeks = once(weeks, 1, 'next week', 'length');
    return `the week starting ${startDate}`;
  });
  const dateAfter = (keyword: string, onDate: (d: Temporal.PlainDate, phrase: string) => string) => {
    s.take(new RegExp(`\\b(?:${keyword})\\s+((?:[^${CONSUMED},;.\\s]+\\s*){1,4})`), (m) => {
      const found = readDate(m[1]!, today);
      if (!found) return null;
      const phrase = m[0].slice(0, m[0].length - m[1]!.length) + found.text;
      s.consume(m.index, phrase.length, onDate(found.date, phrase));
      return null;
    });
  };
  dateAfter('until|till|til|through|thru|ending(?:\\s+on)?|ends(?:\\s+on)?|up to and including', (d, phrase) => {
    endDate = once(endDate, d, phrase, 'end date');
    return `last date ${d}`;
  });
  dateAfter('starting(?:\\s+on|\\s+from)?|beginning(?:\\s+on)?|from|as of|begins(?:\\s+on)?|starts(?:\\s+on)?', (d, phrase) => {
    startDate = once(startDate, d, phrase, 'start date');
    return `first date ${d}`;
  });

  s.take(/\b(?:weekdays|every weekday|week days)\b/, () => addDays([1, 2, 3, 4, 5]));
  s.take(/\b(?:weekends|every weekend)\b/, () => addDays([6, 7]));
  s.take(/\b(?:every day|daily|each day)\b/, () => addDays([1, 2, 3, 4, 5, 6, 7]));
  s.take(new RegExp(`\\b(${DAY})(?![\\w-])`), (m) => addDays([dayNumber(m[1]!)]));

  let slotMinutes: number | null = null;
  const length = (minutes: number, phrase: string) => {
    if (!Number.isInteger(minutes) || minutes <= 0) return null;
    slotMinutes = once(slotMinutes, minutes, phrase, 'slot length');
    return `slots of ${minutes} minutes`;
  };
  s.take(/\b(\d+(?:\.\d+)?)\s*-?\s*(?:h|hrs?|hours?)\b(?:\s*([0-5]?\d)\s*(?:m|mins?|minutes?)\b)?/, (m) =>
    length(Number(m[1]) * 60 + Number(m[2] ?? 0), m[0]),
  );
  s.take(/\b(\d+)\s*-?\s*(?:m|mins?|minutes?)\b/, (m) => length(Number(m[1]), m[0]));
  s.take(/\b(?:half[\s-]an?[\s-]hour|half[\s-]hour(?:ly)?|30[\s-]min)\b/, (m) => length(30, m[0]));
  s.take(/\b(?:quarter[\s-]hour|quarter of an hour)\b/, (m) => length(15, m[0]));
  s.take(/\b(?:an hour|one hour|hour[\s-]long|hourly)\b/, (m) => length(60, m[0]));

  s.take(
    new RegExp(`\\b(?:for|over)\\s+(?:the\\s+)?(?:next\\s+)?${NUMBER}\\s+weeks?\\b|\\bnext\\s+${NUMBER}\\s+weeks\\b|\\b${NUMBER}\\s+weeks\\b`),
    (m) => {
      const n = toNumber((m[1] ?? m[2] ?? m[3])!);
      weeks = once(weeks, n, m[0], 'number of weeks');
      return `${n} week${n === 1 ? '' : 's'}`;
    },
  );

  let maxPerPerson: number | null = null;
  s.take(
    new RegExp(
      `\\b(?:(?:max(?:imum)?|at most|up to|limit(?:\\s+of)?|no more than)\\s+)?${NUMBER}\\s+(?:(?:slots?|sessions?|signups?|bookings?|times?)\\s+)?(?:per|each|a)\\s+(?:person|registration|registrant|participant|player|family|customer|signup)\\b`,
    ),
    (m) => {
      maxPerPerson = once(maxPerPerson, toNumber(m[1]!), m[0], 'per-person limit');
      return `at most ${maxPerPerson} slot(s) per registration`;
    },
  );

  let capacity: number | null = null;
  const seats = (n: number, phrase: string) => {
    capacity = once(capacity, n, phrase, 'capacity');
    return `${n} place(s) per slot`;
  };
  s.take(new RegExp(`\\bgroups? of ${NUMBER}\\b`), (m) => seats(toNumber(m[1]!), m[0]));
  s.take(
    new RegExp(
      `\\b(?:capacity(?:\\s+of)?|up to)\\s+${NUMBER}(?:\\s+(?:people|persons|players|participants|students|kids|seats|places|spots))?(?:\\s+(?:per|each|a|in each)\\s+(?:slot|session|group|class))?\\b`,
    ),
    (m) => seats(toNumber(m[1]!), m[0]),
  );
  s.take(
    new RegExp(
      `\\b${NUMBER}\\s+(?:people|persons|players|participants|students|kids|seats|places|spots)(?:\\s+(?:per|each|a|in each)\\s+(?:slot|session|group|class))?\\b`,
    ),
    (m) => seats(toNumber(m[1]!), m[0]),
  );

  const titleEnd = s.firstIndex;
  const title = cleanTitle(s.text.slice(0, titleEnd).replace(new RegExp(CONSUMED, 'g'), ''));
  unparsed.push(...s.leftovers(titleEnd));

  const missing: string[] = [];
  if (!title) missing.push('a title (start the sentence with what the form is for)');
  if (days.size === 0) missing.push('the days (e.g. "Mon/Wed", "weekdays")');
  if (!window) missing.push('the daily hours (e.g. "5-9pm", "17:00-21:00")');
  if (slotMinutes === null) missing.push('the slot length (e.g. "1h", "90 min", "half-hour slots")');
  if (weeks === null && endDate === null) missing.push('how long it runs (e.g. "for 3 weeks", "until Dec 15")');
  if (weeks !== null && endDate !== null) conflicts.push('both a number of weeks and an end date');
  if (unparsed.length || conflicts.length || missing.length) throw new FormTextNotUnderstoodError(unparsed, missing, conflicts, s.understood);

  const start = startDate ?? today.add({ days: 1 });
  if (!startDate) s.understood.push({ phrase: '', meaning: `starts tomorrow, ${start} (no start date given)` });
  if (!zone) s.understood.push({ phrase: '', meaning: `time zone ${timeZone} (${options.fallbackZoneSource}; the text names none)` });
  const w = window as unknown as { start: number; end: number };
  return {
    title,
    description,
    timeZone,
    timeZoneSource: zone ? `stated as "${zone.phrase}"` : options.fallbackZoneSource,
    maxSlotsPerRegistration: maxPerPerson,
    schedule: {
      daysOfWeek: [...days].sort(),
      startTime: formatWallTime(w.start),
      endTime: formatWallTime(w.end),
      slotMinutes: slotMinutes!,
      capacityPerSlot: capacity ?? 1,
      startDate: start.toString(),
      endDate: endDate ? (endDate as Temporal.PlainDate).toString() : null,
      weeks,
    },
    understood: s.understood,
  };
}

/** A date at the start of `words` (chrono-node, relative to the zone's today, never in the past); null if none. */
function readDate(words: string, today: Temporal.PlainDate): { date: Temporal.PlainDate; text: string } | null {
  if (/^(today)\b/i.test(words)) return { date: today, text: words.slice(0, 5) };
  // chrono reads the reference in the process zone: give it the zone's date at local noon.
  const reference = new Date(today.year, today.month - 1, today.day, 12);
  const parts = words.trim().split(/\s+/);
  for (let n = Math.min(parts.length, 4); n >= 1; n--) {
    const prefix = parts.slice(0, n).join(' ');
    const [result] = chrono.parse(prefix, reference, { forwardDate: true });
    if (result?.index !== 0 || result.text.length !== prefix.length || result.start.isCertain('hour')) continue;
    const date = Temporal.PlainDate.from({ year: result.start.get('year')!, month: result.start.get('month')!, day: result.start.get('day')! });
    return { date, text: prefix };
  }
  return null;
}

function cleanTitle(raw: string): string {
  return raw
    .replace(
      /^\s*(?:please\s+)?(?:create|make|set up|add|new)\s+(?:a\s+|an\s+)?(?:new\s+)?(?:sign[\s-]?up\s+)?(?:form|sheet)\s*(?:for|called|named|:)?\s*/i,
      '',
    )
    .replace(/[\s,;:–—.…-]+$/, '')
    .replace(/(?:\s+(?:on|every|each|from|at|in|for|with))+$/i, '')
    .replace(/[\s,;:–—.…-]+$/, '')
    .replace(/^[\s,;:–—.…-]+/, '')
    .trim();
}

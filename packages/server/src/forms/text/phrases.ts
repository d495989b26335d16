/** Small pieces of the schedule grammar: numbers, days and wall times as people write them. */

const NUMBER_WORDS: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
};

/** A count written as digits or a word ("3", "three", "a"). */
export const NUMBER = `(\\d+|${Object.keys(NUMBER_WORDS).join('|')})`;

export function toNumber(value: string): number {
  return NUMBER_WORDS[value.toLowerCase()] ?? Number(value);
}

const DAY_NUMBERS: Record<string, number> = {
  monday: 1,
  mon: 1,
  tuesday: 2,
  tues: 2,
  tue: 2,
  wednesday: 3,
  weds: 3,
  wed: 3,
  thursday: 4,
  thurs: 4,
  thur: 4,
  thu: 4,
  friday: 5,
  fri: 5,
  saturday: 6,
  sat: 6,
  sunday: 7,
  sun: 7,
};

/** One weekday name, full or short, singular or plural ("Mon", "Tuesdays"). */
export const DAY = `(?:${Object.keys(DAY_NUMBERS).join('|')})(?:s|\\.)?`;

export function dayNumber(word: string): number {
  return DAY_NUMBERS[
    word
      .toLowerCase()
      .replace(/\.$/, '')
      .replace(/(day|tue|wed|thu|fri|sat|sun|mon)s$/, '$1')
  ]!;
}

/** ISO days from a range like "Mon-Fri" (wrapping over the weekend when the end is earlier). */
export function dayRange(from: number, to: number): number[] {
  const days = [from];
  for (let d = from; d !== to; ) days.push((d = (d % 7) + 1));
  return days;
}

/** A clock time: "5", "5pm", "5:30 p.m.", "17:00", "noon", "midnight". */
export const TIME = `(?:noon|midnight|\\d{1,2}(?::[0-5]\\d)?\\s*(?:[ap]\\.?m\\.?)?)`;

interface Clock {
  hour: number;
  minute: number;
  meridiem: 'am' | 'pm' | null;
  /** Written with minutes or as noon/midnight: unambiguous without am/pm. */
  exact: boolean;
  midnight: boolean;
}

function readClock(value: string): Clock | null {
  const v = value.toLowerCase().replace(/\s+/g, '');
  if (v === 'noon') return { hour: 12, minute: 0, meridiem: 'pm', exact: true, midnight: false };
  if (v === 'midnight') return { hour: 0, minute: 0, meridiem: 'am', exact: true, midnight: true };
  const m = /^(\d{1,2})(?::(\d{2}))?([ap])?\.?(?:m\.?)?$/.exec(v);
  if (!m) return null;
  return {
    hour: Number(m[1]),
    minute: Number(m[2] ?? 0),
    meridiem: m[3] ? (m[3] === 'a' ? 'am' : 'pm') : null,
    exact: m[2] !== undefined,
    midnight: false,
  };
}

function to24(c: Clock, meridiem: 'am' | 'pm' | null): number | null {
  if (meridiem) {
    if (c.hour < 1 || c.hour > 12) return null;
    return ((c.hour % 12) + (meridiem === 'pm' ? 12 : 0)) * 60 + c.minute;
  }
  if (c.hour > 24 || (c.hour === 24 && c.minute > 0)) return null;
  return c.hour * 60 + c.minute;
}

/**
 * A daily window "5-9pm", "5pm to 9pm", "17:00-21:00", "noon-4pm", "9am-noon" as minutes after
 * midnight, or null when it is not a window or is ambiguous ("5-9" without am/pm or minutes).
 * A start without am/pm takes the end's, unless that would put it after the end ("11-2pm" = 11am).
 */
export function readWindow(start: string, end: string): { start: number; end: number } | null {
  const a = readClock(start);
  const b = readClock(end);
  if (!a || !b) return null;
  if (!a.meridiem && !b.meridiem && !(a.exact && b.exact)) return null;
  const endMinutes = b.midnight ? 24 * 60 : to24(b, b.meridiem);
  if (endMinutes === null) return null;
  let startMinutes = to24(a, a.meridiem ?? (a.exact && !b.meridiem ? null : b.meridiem));
  if (!a.meridiem && b.meridiem && startMinutes !== null && startMinutes >= endMinutes) startMinutes = to24(a, b.meridiem === 'pm' ? 'am' : 'pm');
  if (startMinutes === null || a.midnight) return startMinutes === null ? null : { start: 0, end: endMinutes };
  return { start: startMinutes, end: endMinutes };
}

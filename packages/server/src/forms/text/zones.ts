import { isValidTimeZone } from '../../shared/time.js';

/** A time zone stated in the text: the words used and the IANA zone they were mapped to. */
export interface StatedZone {
  phrase: string;
  timeZone: string;
  index: number;
  length: number;
}

// Common abbreviations and regional names; each maps to the zone people usually mean by it (DST included).
const ABBREVIATIONS: Record<string, string> = {
  ET: 'America/New_York',
  EST: 'America/New_York',
  EDT: 'America/New_York',
  CT: 'America/Chicago',
  CST: 'America/Chicago',
  CDT: 'America/Chicago',
  MT: 'America/Denver',
  MST: 'America/Denver',
  MDT: 'America/Denver',
  PT: 'America/Los_Angeles',
  PST: 'America/Los_Angeles',
  PDT: 'America/Los_Angeles',
  CET: 'Europe/Berlin',
  CEST: 'Europe/Berlin',
  BST: 'Europe/London',
  GMT: 'UTC',
  UTC: 'UTC',
  JST: 'Asia/Tokyo',
  AEST: 'Australia/Sydney',
  AEDT: 'Australia/Sydney',
};

const REGIONS: Record<string, string> = {
  eastern: 'America/New_York',
  'central time': 'America/Chicago',
  'mountain time': 'America/Denver',
  pacific: 'America/Los_Angeles',
};

// Cities that are not themselves the last part of a zone name.
const EXTRA_CITIES: Record<string, string> = {
  'san francisco': 'America/Los_Angeles',
  seattle: 'America/Los_Angeles',
  boston: 'America/New_York',
  washington: 'America/New_York',
  miami: 'America/New_York',
  munich: 'Europe/Berlin',
  frankfurt: 'Europe/Berlin',
  mumbai: 'Asia/Kolkata',
  delhi: 'Asia/Kolkata',
  beijing: 'Asia/Shanghai',
  hamburg: 'Europe/Berlin',
};

// Offsets that are not whole hours have no Etc/GMT zone: the main zone using them.
const PART_HOUR_OFFSETS: Record<string, string> = {
  '+05:30': 'Asia/Kolkata',
  '+05:45': 'Asia/Kathmandu',
  '+09:30': 'Australia/Darwin',
  '-03:30': 'America/St_Johns',
  '+03:30': 'Asia/Tehran',
};

let cities: Map<string, string> | undefined;

/** City name (lower case, spaces) -> IANA zone, from the runtime's zone list plus a few well-known cities. */
function cityZones(): Map<string, string> {
  if (cities) return cities;
  cities = new Map(Object.entries(EXTRA_CITIES));
  for (const zone of Intl.supportedValuesOf('timeZone')) {
    const city = zone.split('/').at(-1)!.replace(/_/g, ' ').toLowerCase();
    if (zone.includes('/') && !cities.has(city)) cities.set(city, zone);
  }
  return cities;
}

/** UTC±H[:MM] -> a real IANA zone: Etc/GMT∓H for whole hours (POSIX sign), a named zone for the part-hour ones. */
export function zoneForOffset(sign: '+' | '-', hours: number, minutes: number): string | null {
  if (hours > 14 || minutes >= 60) return null;
  if (hours === 0 && minutes === 0) return 'UTC';
  if (minutes === 0) return `Etc/GMT${sign === '+' ? '-' : '+'}${hours}`;
  return PART_HOUR_OFFSETS[`${sign}${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}`] ?? null;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every zone the text states, in order; an offset without a zone is returned with timeZone ''. */
export function statedZones(text: string): StatedZone[] {
  const found: StatedZone[] = [];
  const add = (m: RegExpExecArray, timeZone: string) => found.push({ phrase: m[0].trim(), timeZone, index: m.index, length: m[0].length });
  for (const m of text.matchAll(/\b(?:in\s+)?(?:UTC|GMT)\s*([+-−])\s*(\d{1,2})(?::?(\d{2}))?\b/gi)) {
    add(m, zoneForOffset(m[1] === '+' ? '+' : '-', Number(m[2]), Number(m[3] ?? 0)) ?? '');
  }
  for (const m of text.matchAll(/\b(?:in\s+)?([A-Z][A-Za-z]+\/[A-Za-z_]+(?:\/[A-Za-z_]+)?)(?:\s+time)?\b/g)) {
    if (isValidTimeZone(m[1]!)) add(m, m[1]!);
  }
  const abbreviations = Object.keys(ABBREVIATIONS).join('|');
  for (const m of text.matchAll(new RegExp(`\\b(?:in\\s+)?(${abbreviations})\\b(?![+−-]\\s*\\d)(?:\\s+time)?`, 'g'))) add(m, ABBREVIATIONS[m[1]!]!);
  for (const m of text.matchAll(new RegExp(`\\b(?:in\\s+)?(${Object.keys(REGIONS).join('|')})(?:\\s+time)?\\b`, 'gi')))
    add(m, REGIONS[m[1]!.toLowerCase()]!);
  const names = [...cityZones().keys()]
    .sort((a, b) => b.length - a.length)
    .map(escapeRegExp)
    .join('|');
  for (const m of text.matchAll(new RegExp(`\\bin\\s+(${names})(?:\\s+time)?\\b|\\b(${names})\\s+time\\b|\\((${names})\\)`, 'gi'))) {
    add(m, cityZones().get((m[1] ?? m[2] ?? m[3])!.toLowerCase())!);
  }
  // A longer match wins over one inside it (e.g. "UTC+2" over "UTC").
  return found
    .filter((z) => !found.some((o) => o !== z && o.index <= z.index && o.index + o.length >= z.index + z.length && o.length > z.length))
    .sort((a, b) => a.index - b.index);
}

import { describe, expect, it } from 'vitest';
import { DEFAULT_LOCALE, resolveLocale, timeFormat } from '../src/format.js';

const NY = 'America/New_York';
// Mon Nov 30 2026, 17:00-18:00 in New York.
const start = '2026-11-30T22:00:00Z';
const end = '2026-11-30T23:00:00Z';

describe('@slotwise/sdk/format', () => {
  it('writes the product wording by default: "Mon Nov 30, 5:00–6:00 PM", no commas in the day, plain spaces', () => {
    const f = timeFormat();
    expect(f.locale).toBe(DEFAULT_LOCALE);
    expect(f.slot(start, end, NY)).toBe('Mon Nov 30, 5:00–6:00 PM');
    expect(f.timeRange('2026-11-30T16:30:00Z', '2026-11-30T17:30:00Z', NY)).toBe('11:30 AM–12:30 PM');
    expect(f.day('2026-11-30')).toBe('Mon Nov 30');
    expect(f.time(start, NY)).toBe('5:00 PM');
    expect(f.dateRange('2026-11-23', '2026-11-29')).toBe('Nov 23 – 29, 2026');
  });

  it('follows the locale: en-GB and de write the same slot their way', () => {
    expect(timeFormat('en-GB').slot(start, end, NY)).toBe('Mon 30 Nov, 17:00–18:00');
    expect(timeFormat('en-GB').dateRange('2026-11-30', '2026-12-06')).toBe('30 Nov – 6 Dec 2026');
    expect(timeFormat('de').slot(start, end, NY)).toBe('Mo. 30. Nov., 17:00–18:00 Uhr');
  });

  it('a range past midnight names both times, not both dates', () => {
    expect(timeFormat().timeRange('2026-12-01T04:30:00Z', '2026-12-01T05:30:00Z', NY)).toBe('11:30 PM–12:30 AM');
  });

  it('names zones as people say them, with the city; UTC stays UTC', () => {
    expect(timeFormat().zone(NY)).toBe('Eastern Time (New York)');
    expect(timeFormat('en-GB').zone('Europe/London')).toBe('United Kingdom Time (London)');
    expect(timeFormat().zone('UTC')).toBe('UTC');
  });

  it('an unknown or malformed locale falls back to the default', () => {
    expect(resolveLocale('xx-nonsense')).toBe(DEFAULT_LOCALE);
    expect(resolveLocale('"><script>')).toBe(DEFAULT_LOCALE);
    expect(resolveLocale(undefined)).toBe(DEFAULT_LOCALE);
    expect(resolveLocale('en-GB')).toBe('en-GB');
  });
});

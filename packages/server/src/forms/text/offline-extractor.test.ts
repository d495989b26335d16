import { describe, expect, it } from 'vitest';
import { formScheduleInput, slotsForSchedule } from '../form-schedule.js';
import { FormSlotLimitError } from '../forms.errors.js';
import { FormTextNotUnderstoodError } from './form-text.errors.js';
import { extractOffline } from './offline-extractor.js';

// Wed 2026-12-02, 10:00 in New York: "tomorrow" is Thu Dec 3, "next Monday" Dec 7.
const NOW = new Date('2026-12-02T15:00:00Z');
const read = (text: string, fallbackZone = 'America/New_York') =>
  extractOffline(text, { now: NOW, fallbackZone, fallbackZoneSource: 'the timeZone argument' });
const slotStarts = (text: string) => {
  const e = read(text);
  return slotsForSchedule(formScheduleInput.parse(e.schedule), e.timeZone, NOW).map((s) => s.startAt.toISOString().slice(0, 16));
};

interface Schedule {
  days: number[];
  window: string;
  minutes: number;
  capacity: number;
  from: string;
  weeks?: number;
  until?: string;
  max?: number;
}
/** Every slot start (UTC, to the minute), or for long schedules the count and the first and last. */
type Slots = { starts: string[] } | { count: number; first: string; last: string };

// Each phrasing with the schedule it must give and the exact UTC instants of its slots.
const PHRASINGS: [string, string, string, Schedule, Slots][] = [
  [
    '1-1 soccer coaching ... 5-9pm ... Mon/Wed ... 1h ... next 2 weeks',
    '1-1 soccer coaching',
    'America/New_York',
    { days: [1, 3], window: '17:00-21:00', minutes: 60, capacity: 1, from: '2026-12-03', weeks: 2 },
    { count: 16, first: '2026-12-07T22:00', last: '2026-12-17T01:00' },
  ],
  [
    '1-1 soccer coaching, 5-9pm, Mon/Wed, 1h slots, next 2 weeks',
    '1-1 soccer coaching',
    'America/New_York',
    { days: [1, 3], window: '17:00-21:00', minutes: 60, capacity: 1, from: '2026-12-03', weeks: 2 },
    { count: 16, first: '2026-12-07T22:00', last: '2026-12-17T01:00' },
  ],
  [
    'Create a signup form for 1-1 soccer coaching on Mon/Wed from 5pm to 9pm, 1 hour slots, for the next 2 weeks',
    '1-1 soccer coaching',
    'America/New_York',
    { days: [1, 3], window: '17:00-21:00', minutes: 60, capacity: 1, from: '2026-12-03', weeks: 2 },
    { count: 16, first: '2026-12-07T22:00', last: '2026-12-17T01:00' },
  ],
  [
    'Office hours 17:00-21:00 Mon/Wed 60 min for 2 weeks',
    'Office hours',
    'America/New_York',
    { days: [1, 3], window: '17:00-21:00', minutes: 60, capacity: 1, from: '2026-12-03', weeks: 2 },
    { count: 16, first: '2026-12-07T22:00', last: '2026-12-17T01:00' },
  ],
  [
    'Office hours, 9am-5pm, Mon-Fri, 1h, for 1 week',
    'Office hours',
    'America/New_York',
    { days: [1, 2, 3, 4, 5], window: '09:00-17:00', minutes: 60, capacity: 1, from: '2026-12-03', weeks: 1 },
    { count: 40, first: '2026-12-03T14:00', last: '2026-12-09T21:00' },
  ],
  [
    'Office hours weekdays 9:00-12:00 90 min for 1 week',
    'Office hours',
    'America/New_York',
    { days: [1, 2, 3, 4, 5], window: '09:00-12:00', minutes: 90, capacity: 1, from: '2026-12-03', weeks: 1 },
    { count: 10, first: '2026-12-03T14:00', last: '2026-12-09T15:30' },
  ],
  [
    'Tutoring every Tuesday and Thursday 2pm-4pm 30 minutes for 3 weeks',
    'Tutoring',
    'America/New_York',
    { days: [2, 4], window: '14:00-16:00', minutes: 30, capacity: 1, from: '2026-12-03', weeks: 3 },
    { count: 24, first: '2026-12-03T19:00', last: '2026-12-22T20:30' },
  ],
  [
    'Tutoring every Tuesday and Thursday noon-2pm half-hour slots for 2 weeks',
    'Tutoring',
    'America/New_York',
    { days: [2, 4], window: '12:00-14:00', minutes: 30, capacity: 1, from: '2026-12-03', weeks: 2 },
    { count: 16, first: '2026-12-03T17:00', last: '2026-12-15T18:30' },
  ],
  [
    'Piano: Saturdays 10am-noon, 1.5h, for 4 weeks',
    'Piano',
    'America/New_York',
    { days: [6], window: '10:00-12:00', minutes: 90, capacity: 1, from: '2026-12-03', weeks: 4 },
    { starts: ['2026-12-05T15:00', '2026-12-12T15:00', '2026-12-19T15:00', '2026-12-26T15:00'] },
  ],
  [
    'Piano: Saturdays 10am-1pm, 1.5h, for 4 weeks',
    'Piano',
    'America/New_York',
    { days: [6], window: '10:00-13:00', minutes: 90, capacity: 1, from: '2026-12-03', weeks: 4 },
    {
      starts: [
        '2026-12-05T15:00',
        '2026-12-05T16:30',
        '2026-12-12T15:00',
        '2026-12-12T16:30',
        '2026-12-19T15:00',
        '2026-12-19T16:30',
        '2026-12-26T15:00',
        '2026-12-26T16:30',
      ],
    },
  ],
  [
    'Chess club Mondays 6-8pm 1h groups of 4 for 3 weeks',
    'Chess club',
    'America/New_York',
    { days: [1], window: '18:00-20:00', minutes: 60, capacity: 4, from: '2026-12-03', weeks: 3 },
    { starts: ['2026-12-07T23:00', '2026-12-08T00:00', '2026-12-14T23:00', '2026-12-15T00:00', '2026-12-21T23:00', '2026-12-22T00:00'] },
  ],
  [
    'Chess club Mondays 6-8pm 1h groups of 4 max 2 per person for 3 weeks',
    'Chess club',
    'America/New_York',
    { days: [1], window: '18:00-20:00', minutes: 60, capacity: 4, from: '2026-12-03', weeks: 3, max: 2 },
    { starts: ['2026-12-07T23:00', '2026-12-08T00:00', '2026-12-14T23:00', '2026-12-15T00:00', '2026-12-21T23:00', '2026-12-22T00:00'] },
  ],
  [
    'Swim lessons Sun 8-10am 45 min until Dec 20',
    'Swim lessons',
    'America/New_York',
    { days: [7], window: '08:00-10:00', minutes: 45, capacity: 1, from: '2026-12-03', until: '2026-12-20' },
    { starts: ['2026-12-06T13:00', '2026-12-06T13:45', '2026-12-13T13:00', '2026-12-13T13:45', '2026-12-20T13:00', '2026-12-20T13:45'] },
  ],
  [
    'Swim lessons Sun 8-10am 45 min until Dec 15',
    'Swim lessons',
    'America/New_York',
    { days: [7], window: '08:00-10:00', minutes: 45, capacity: 1, from: '2026-12-03', until: '2026-12-15' },
    { starts: ['2026-12-06T13:00', '2026-12-06T13:45', '2026-12-13T13:00', '2026-12-13T13:45'] },
  ],
  [
    'Clinic Wed 1pm-3pm 1h starting next Monday for 2 weeks',
    'Clinic',
    'America/New_York',
    { days: [3], window: '13:00-15:00', minutes: 60, capacity: 1, from: '2026-12-07', weeks: 2 },
    { starts: ['2026-12-09T18:00', '2026-12-09T19:00', '2026-12-16T18:00', '2026-12-16T19:00'] },
  ],
  [
    'Clinic Monday through Friday 9:00-10:00, 30 minutes, next week, CET',
    'Clinic',
    'Europe/Berlin',
    { days: [1, 2, 3, 4, 5], window: '09:00-10:00', minutes: 30, capacity: 1, from: '2026-12-07', weeks: 1 },
    { count: 10, first: '2026-12-07T08:00', last: '2026-12-11T08:30' },
  ],
  [
    'Interviews Mon-Fri 10am-11am 1h for 1 week in Berlin',
    'Interviews',
    'Europe/Berlin',
    { days: [1, 2, 3, 4, 5], window: '10:00-11:00', minutes: 60, capacity: 1, from: '2026-12-03', weeks: 1 },
    { starts: ['2026-12-03T09:00', '2026-12-04T09:00', '2026-12-07T09:00', '2026-12-08T09:00', '2026-12-09T09:00'] },
  ],
  [
    'Interviews Mon-Fri 10am-11am 1h for 1 week Europe/London',
    'Interviews',
    'Europe/London',
    { days: [1, 2, 3, 4, 5], window: '10:00-11:00', minutes: 60, capacity: 1, from: '2026-12-03', weeks: 1 },
    { starts: ['2026-12-03T10:00', '2026-12-04T10:00', '2026-12-07T10:00', '2026-12-08T10:00', '2026-12-09T10:00'] },
  ],
  [
    'Interviews Mon 10am-11am 1h for 2 weeks UTC+2',
    'Interviews',
    'Etc/GMT-2',
    { days: [1], window: '10:00-11:00', minutes: 60, capacity: 1, from: '2026-12-03', weeks: 2 },
    { starts: ['2026-12-07T08:00', '2026-12-14T08:00'] },
  ],
  [
    'Interviews Mon 10am-11am 1h for 2 weeks UTC-05:00',
    'Interviews',
    'Etc/GMT+5',
    { days: [1], window: '10:00-11:00', minutes: 60, capacity: 1, from: '2026-12-03', weeks: 2 },
    { starts: ['2026-12-07T15:00', '2026-12-14T15:00'] },
  ],
  [
    'Interviews Mon 10am-11am 1h for 2 weeks GMT+5:30',
    'Interviews',
    'Asia/Kolkata',
    { days: [1], window: '10:00-11:00', minutes: 60, capacity: 1, from: '2026-12-03', weeks: 2 },
    { starts: ['2026-12-07T04:30', '2026-12-14T04:30'] },
  ],
  [
    'Interviews Mon 10am-11am 1h for 2 weeks Eastern',
    'Interviews',
    'America/New_York',
    { days: [1], window: '10:00-11:00', minutes: 60, capacity: 1, from: '2026-12-03', weeks: 2 },
    { starts: ['2026-12-07T15:00', '2026-12-14T15:00'] },
  ],
  [
    'Interviews Mon 10am-11am 1h for 2 weeks PT',
    'Interviews',
    'America/Los_Angeles',
    { days: [1], window: '10:00-11:00', minutes: 60, capacity: 1, from: '2026-12-03', weeks: 2 },
    { starts: ['2026-12-07T18:00', '2026-12-14T18:00'] },
  ],
  [
    'Interviews Mon 10am-11am 1h for 2 weeks, Tokyo time',
    'Interviews',
    'Asia/Tokyo',
    { days: [1], window: '10:00-11:00', minutes: 60, capacity: 1, from: '2026-12-04', weeks: 2 },
    { starts: ['2026-12-07T01:00', '2026-12-14T01:00'] },
  ],
  [
    'Interviews Mon 10am-11am 1h for 2 weeks (New York)',
    'Interviews',
    'America/New_York',
    { days: [1], window: '10:00-11:00', minutes: 60, capacity: 1, from: '2026-12-03', weeks: 2 },
    { starts: ['2026-12-07T15:00', '2026-12-14T15:00'] },
  ],
  [
    'Yoga daily 7-8am 1h for 1 week',
    'Yoga',
    'America/New_York',
    { days: [1, 2, 3, 4, 5, 6, 7], window: '07:00-08:00', minutes: 60, capacity: 1, from: '2026-12-03', weeks: 1 },
    {
      starts: [
        '2026-12-03T12:00',
        '2026-12-04T12:00',
        '2026-12-05T12:00',
        '2026-12-06T12:00',
        '2026-12-07T12:00',
        '2026-12-08T12:00',
        '2026-12-09T12:00',
      ],
    },
  ],
  [
    'Yoga every day 7:00-8:00 1h for 1 week, 10 people per slot',
    'Yoga',
    'America/New_York',
    { days: [1, 2, 3, 4, 5, 6, 7], window: '07:00-08:00', minutes: 60, capacity: 10, from: '2026-12-03', weeks: 1 },
    {
      starts: [
        '2026-12-03T12:00',
        '2026-12-04T12:00',
        '2026-12-05T12:00',
        '2026-12-06T12:00',
        '2026-12-07T12:00',
        '2026-12-08T12:00',
        '2026-12-09T12:00',
      ],
    },
  ],
  [
    'Drop-in 11-2pm Fri 1h for 2 weeks',
    'Drop-in',
    'America/New_York',
    { days: [5], window: '11:00-14:00', minutes: 60, capacity: 1, from: '2026-12-03', weeks: 2 },
    { starts: ['2026-12-04T16:00', '2026-12-04T17:00', '2026-12-04T18:00', '2026-12-11T16:00', '2026-12-11T17:00', '2026-12-11T18:00'] },
  ],
  [
    'Drop-in 11am-1pm Fri 1 hour, starting Jan 4, for 2 weeks',
    'Drop-in',
    'America/New_York',
    { days: [5], window: '11:00-13:00', minutes: 60, capacity: 1, from: '2027-01-04', weeks: 2 },
    { starts: ['2027-01-08T16:00', '2027-01-08T17:00', '2027-01-15T16:00', '2027-01-15T17:00'] },
  ],
  [
    'Late shift Fri 10pm-midnight 1h for 2 weeks',
    'Late shift',
    'America/New_York',
    { days: [5], window: '22:00-24:00', minutes: 60, capacity: 1, from: '2026-12-03', weeks: 2 },
    { starts: ['2026-12-05T03:00', '2026-12-05T04:00', '2026-12-12T03:00', '2026-12-12T04:00'] },
  ],
  [
    'Mock exams Mon/Wed/Fri 9am-12pm 90 min from Dec 7 until Dec 18',
    'Mock exams',
    'America/New_York',
    { days: [1, 3, 5], window: '09:00-12:00', minutes: 90, capacity: 1, from: '2026-12-07', until: '2026-12-18' },
    { count: 12, first: '2026-12-07T14:00', last: '2026-12-18T15:30' },
  ],
  [
    'Check-ins weekends 9am-11am 20 min for 1 week',
    'Check-ins',
    'America/New_York',
    { days: [6, 7], window: '09:00-11:00', minutes: 20, capacity: 1, from: '2026-12-03', weeks: 1 },
    { count: 12, first: '2026-12-05T14:00', last: '2026-12-06T15:40' },
  ],
  [
    'Check-ins Tue, Thu 3-5pm 1h 30m for 2 weeks',
    'Check-ins',
    'America/New_York',
    { days: [2, 4], window: '15:00-17:00', minutes: 90, capacity: 1, from: '2026-12-03', weeks: 2 },
    { starts: ['2026-12-03T20:00', '2026-12-08T20:00', '2026-12-10T20:00', '2026-12-15T20:00'] },
  ],
  [
    'Consults Thu 9-11am 2 hours for 3 weeks, max 1 per person',
    'Consults',
    'America/New_York',
    { days: [4], window: '09:00-11:00', minutes: 120, capacity: 1, from: '2026-12-03', weeks: 3, max: 1 },
    { starts: ['2026-12-03T14:00', '2026-12-10T14:00', '2026-12-17T14:00'] },
  ],
  [
    'Coaching Mon 5-9pm 1h for two weeks, capacity 3',
    'Coaching',
    'America/New_York',
    { days: [1], window: '17:00-21:00', minutes: 60, capacity: 3, from: '2026-12-03', weeks: 2 },
    {
      starts: [
        '2026-12-07T22:00',
        '2026-12-07T23:00',
        '2026-12-08T00:00',
        '2026-12-08T01:00',
        '2026-12-14T22:00',
        '2026-12-14T23:00',
        '2026-12-15T00:00',
        '2026-12-15T01:00',
      ],
    },
  ],
  [
    'DST Sat/Sun/Mon 1:00-4:00 1h from Mar 13 until Mar 15 Eastern',
    'DST',
    'America/New_York',
    { days: [1, 6, 7], window: '01:00-04:00', minutes: 60, capacity: 1, from: '2027-03-13', until: '2027-03-15' },
    {
      starts: [
        '2027-03-13T06:00',
        '2027-03-13T07:00',
        '2027-03-13T08:00',
        '2027-03-14T06:00',
        '2027-03-14T07:00',
        '2027-03-15T05:00',
        '2027-03-15T06:00',
        '2027-03-15T07:00',
      ],
    },
  ],
  [
    'DST Europe Sat/Sun 1:00-4:00 1h starting 2027-03-27 until 2027-03-28 in Berlin',
    'DST Europe',
    'Europe/Berlin',
    { days: [6, 7], window: '01:00-04:00', minutes: 60, capacity: 1, from: '2027-03-27', until: '2027-03-28' },
    { starts: ['2027-03-27T00:00', '2027-03-27T01:00', '2027-03-27T02:00', '2027-03-28T00:00', '2027-03-28T01:00'] },
  ],
  [
    'Fall back Sun 0:00-3:00 1h starting Nov 7 for 1 week Eastern',
    'Fall back',
    'America/New_York',
    { days: [7], window: '00:00-03:00', minutes: 60, capacity: 1, from: '2027-11-07', weeks: 1 },
    { starts: ['2027-11-07T04:00', '2027-11-07T05:00', '2027-11-07T07:00'] },
  ],
  [
    'Futsal Tue 6-8pm 1h up to 6 players through Jan 8, Central time, one per person',
    'Futsal',
    'America/Chicago',
    { days: [2], window: '18:00-20:00', minutes: 60, capacity: 6, from: '2026-12-03', until: '2027-01-08', max: 1 },
    { count: 10, first: '2026-12-09T00:00', last: '2027-01-06T01:00' },
  ],
  [
    'Futsal "bring shoes" Tue 6-8pm 1h for 1 week GMT-05:00 at most 1 slot per registration',
    'Futsal',
    'Etc/GMT+5',
    { days: [2], window: '18:00-20:00', minutes: 60, capacity: 1, from: '2026-12-03', weeks: 1, max: 1 },
    { starts: ['2026-12-08T23:00', '2026-12-09T00:00'] },
  ],
];

describe('offline extractor: phrasings -> exact schedule and slot instants', () => {
  it('has at least 40 phrasings (accepted and refused)', () => {
    expect(PHRASINGS.length + REFUSED.length).toBeGreaterThanOrEqual(40);
  });

  it.each(PHRASINGS)('%s', (text, title, timeZone, schedule, slots) => {
    const e = read(text);
    expect(e.title).toBe(title);
    expect(e.timeZone).toBe(timeZone);
    expect(e.schedule).toEqual({
      daysOfWeek: schedule.days,
      startTime: schedule.window.split('-')[0],
      endTime: schedule.window.split('-')[1],
      slotMinutes: schedule.minutes,
      capacityPerSlot: schedule.capacity,
      startDate: schedule.from,
      endDate: schedule.until ?? null,
      weeks: schedule.weeks ?? null,
    });
    expect(e.maxSlotsPerRegistration).toBe(schedule.max ?? null);
    const starts = slotStarts(text);
    if ('starts' in slots) expect(starts).toEqual(slots.starts);
    else expect({ count: starts.length, first: starts[0], last: starts.at(-1) }).toEqual(slots);
  });

  it("the seed's sentence gives its 16 slots: Mon/Wed 17:00-21:00 EST, Dec 7 to Dec 16", () => {
    expect(slotStarts('1-1 soccer coaching ... 5-9pm ... Mon/Wed ... 1h ... next 2 weeks')).toEqual(
      ['07', '09', '14', '16'].flatMap((d) => {
        const next = String(Number(d) + 1).padStart(2, '0');
        return [`2026-12-${d}T22:00`, `2026-12-${d}T23:00`, `2026-12-${next}T00:00`, `2026-12-${next}T01:00`];
      }),
    );
  });

  it('reports where the zone came from: stated (mapped to IANA) or the fallback', () => {
    expect(read('Chess Mon 6-8pm 1h for 1 week UTC+2')).toMatchObject({ timeZone: 'Etc/GMT-2', timeZoneSource: 'stated as "UTC+2"' });
    expect(read('Chess Mon 6-8pm 1h for 1 week, Eastern time')).toMatchObject({
      timeZone: 'America/New_York',
      timeZoneSource: 'stated as "Eastern time"',
    });
    const fallback = read('Chess Mon 6-8pm 1h for 1 week', 'Europe/Paris');
    expect(fallback).toMatchObject({ timeZone: 'Europe/Paris', timeZoneSource: 'the timeZone argument' });
    expect(fallback.understood.map((u) => u.meaning)).toEqual(
      expect.arrayContaining([expect.stringContaining('time zone Europe/Paris'), 'starts tomorrow, 2026-12-03 (no start date given)']),
    );
  });

  it('reads a description and says what each phrase meant', () => {
    const e = read('Soccer coaching, Mon/Wed 5-9pm, 1h, next 2 weeks. Note: bring boots');
    expect(e).toMatchObject({ title: 'Soccer coaching', description: 'bring boots' });
    expect(e.understood).toEqual(
      expect.arrayContaining([
        { phrase: 'Mon', meaning: 'days Mon' },
        { phrase: '5-9pm', meaning: 'daily window 17:00-21:00' },
        { phrase: '1h', meaning: 'slots of 60 minutes' },
        { phrase: 'next 2 weeks', meaning: '2 weeks' },
      ]),
    );
  });
});

// Sentences it must refuse, with the phrases named (unparsed / missing / conflicting).
const REFUSED: [string, { unparsed?: string[]; missing?: RegExp; conflicts?: string[] }][] = [
  ['Soccer Mon 5-9pm 1h for 2 weeks except holidays', { unparsed: ['except holidays'] }],
  ['Soccer Mon/Wed 5-9pm 1h every other week for 4 weeks', { unparsed: ['every other week'] }],
  ['Soccer Mon 5-9pm 1h for 2 weeks, lunch break 12-1', { unparsed: ['lunch break 12-1'] }],
  ['Soccer Mon 9-12 and 2-5pm 1h for 2 weeks', { unparsed: ['9-12 and'] }],
  ['Soccer Mon 5-9 1h for 2 weeks', { unparsed: ['5-9'], missing: /daily hours/ }],
  ['Soccer Mon 5-9pm 1h for 2 weeks UTC+5:15', { unparsed: ['UTC+5:15'] }],
  ['Soccer Mon 5-9pm for 2 weeks', { missing: /slot length/ }],
  ['Soccer 5-9pm 1h for 2 weeks', { missing: /the days/ }],
  ['Soccer Mon 5-9pm 1h', { missing: /how long it runs/ }],
  ['Mon 5-9pm 1h for 2 weeks', { missing: /a title/ }],
  ['Soccer Mon 5-9pm 1h for 2 weeks Eastern in Berlin', { conflicts: ['in Berlin (a second time zone)'] }],
  ['Soccer Mon 5-9pm 1h for 2 weeks until Dec 20', { conflicts: ['both a number of weeks and an end date'] }],
  ['Soccer Mon 5-9pm 1h 90 min for 2 weeks', { conflicts: ['90 min (a second slot length)'] }],
  ['Futsal Tue 6-8pm 1h for 1 week in Paris Saint-Germain', { unparsed: ['Saint-Germain'] }],
];

describe('offline extractor: sentences it refuses', () => {
  it.each(REFUSED)('%s', (text, expected) => {
    let error: unknown;
    try {
      read(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FormTextNotUnderstoodError);
    const e = error as FormTextNotUnderstoodError;
    expect(e.unparsed).toEqual(expected.unparsed ?? []);
    expect(e.conflicts).toEqual(expected.conflicts ?? []);
    if (expected.missing) expect(e.missing.join('; ')).toMatch(expected.missing);
    else expect(e.missing).toEqual([]);
    for (const phrase of expected.unparsed ?? []) expect(e.message).toContain(`"${phrase}"`);
  });

  it('a schedule over 100 slots gets the same FormSlotLimitError as createForm', () => {
    const e = read('Soccer daily 8am-8pm 30 min for 4 weeks');
    expect(() => slotsForSchedule(formScheduleInput.parse(e.schedule), e.timeZone, NOW)).toThrow(FormSlotLimitError);
  });
});

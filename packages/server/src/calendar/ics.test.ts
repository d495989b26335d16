import { describe, expect, it } from 'vitest';
import { renderIcs, type IcsEvent, type IcsInput } from './ics.js';
import { parseIcs } from '../../test/kit/mail.js';

const NOW = new Date('2026-10-01T12:00:00Z');
const event = (uid: string, startAt: string, endAt: string, extra: Partial<IcsEvent> = {}): IcsEvent => ({
  uid,
  sequence: 0,
  startAt: new Date(startAt),
  endAt: new Date(endAt),
  summary: 'Session with Ada',
  description: 'Your session with Ada is confirmed.\n\nSee or cancel this booking: http://localhost:4000/manage?t=ml_x',
  location: { title: 'Riverside Clinic', address: '1 River St' },
  ...extra,
});
const input = (events: IcsEvent[], extra: Partial<IcsInput> = {}): IcsInput => ({
  method: 'REQUEST',
  organizer: 'slotwise@example.com',
  attendee: { email: 'guest@example.org', name: 'Grace "G" Hopper' },
  events,
  timeZone: null,
  now: NOW,
  ...extra,
});

// America/New_York falls back on 2026-11-01 at 06:00 UTC (02:00 EDT -> 01:00 EST): 01:00-01:59 happens twice.
const ACROSS_FALL_BACK = [
  event('before@test', '2026-10-31T21:00:00Z', '2026-10-31T22:00:00Z'),
  event('spans@test', '2026-11-01T04:30:00Z', '2026-11-01T07:30:00Z'),
  event('first-0130@test', '2026-11-01T05:30:00Z', '2026-11-01T06:00:00Z'),
  event('second-0130@test', '2026-11-01T06:30:00Z', '2026-11-01T07:00:00Z'),
  event('after@test', '2026-11-02T14:00:00Z', '2026-11-02T14:30:00Z'),
  // Spring forward 2027-03-14 07:00 UTC (02:00 EST -> 03:00 EDT).
  event('spring@test', '2027-03-14T06:30:00Z', '2027-03-14T07:30:00Z'),
];

describe('renderIcs', () => {
  it('writes a REQUEST a real parser reads back: UID, SEQUENCE, UTC times, ORGANIZER, exactly one ATTENDEE', () => {
    const parsed = parseIcs(renderIcs(input([event('b1@slotwise', '2026-11-02T14:00:00Z', '2026-11-02T14:30:00Z', { sequence: 3 })])));
    expect(parsed.method).toBe('REQUEST');
    expect(parsed.timezones).toEqual([]);
    expect(parsed.events).toHaveLength(1);
    expect(parsed.events[0]).toMatchObject({
      uid: 'b1@slotwise',
      sequence: 3,
      start: '2026-11-02T14:00:00.000Z',
      end: '2026-11-02T14:30:00.000Z',
      zone: 'UTC',
      status: 'CONFIRMED',
      summary: 'Session with Ada',
      location: 'Riverside Clinic\n1 River St',
      organizer: 'mailto:slotwise@example.com',
      stamp: NOW.toISOString(),
    });
    expect(parsed.events[0]!.description).toContain('http://localhost:4000/manage?t=ml_x');
    expect(parsed.events[0]!.attendees).toEqual([{ value: 'MAILTO:guest@example.org', rsvp: 'TRUE', partstat: 'NEEDS-ACTION' }]);
  });

  it('writes a CANCEL with STATUS:CANCELLED', () => {
    const parsed = parseIcs(
      renderIcs(input([event('b1@slotwise', '2026-11-02T14:00:00Z', '2026-11-02T14:30:00Z', { sequence: 4 })], { method: 'CANCEL' })),
    );
    expect(parsed.method).toBe('CANCEL');
    expect(parsed.events[0]).toMatchObject({ uid: 'b1@slotwise', sequence: 4, status: 'CANCELLED' });
  });

  it('ICS_TIME_ZONES=local gives the same instants as UTC across both DST changes, with TZID and a parsed VTIMEZONE', () => {
    const utc = parseIcs(renderIcs(input(ACROSS_FALL_BACK)));
    const ics = renderIcs(input(ACROSS_FALL_BACK, { timeZone: 'America/New_York' }));
    const local = parseIcs(ics);
    expect(local.events.map((e) => [e.uid, e.start, e.end])).toEqual(utc.events.map((e) => [e.uid, e.start, e.end]));
    expect(local.events.map((e) => [e.uid, e.start, e.end])).toEqual(
      ACROSS_FALL_BACK.map((e) => [e.uid, e.startAt.toISOString(), e.endAt.toISOString()]),
    );
    // Wall times: DTSTART;TZID=America/New_York:20261101T003000 (00:30 EDT) to 02:30 EST.
    expect(ics).toContain('DTSTART;TZID=America/New_York:20261101T003000');
    expect(ics).toContain('DTEND;TZID=America/New_York:20261101T023000');
    expect(ics).toContain('DTSTART;TZID=America/New_York:20270314T013000');
    expect(ics).toContain('DTEND;TZID=America/New_York:20270314T033000');
    // 01:30 on the fall-back night names two instants: those events are written in UTC instead.
    expect(local.events.find((e) => e.uid === 'second-0130@test')!.zone).toBe('UTC');
    expect(local.events.find((e) => e.uid === 'spans@test')!.zone).toBe('America/New_York');
    expect(local.timezones).toHaveLength(1);
    expect(ics).toMatch(/BEGIN:STANDARD\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nTZNAME:EST\r\nDTSTART:20261101T020000\r\nEND:STANDARD/);
    expect(ics).toMatch(/BEGIN:DAYLIGHT\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT\r\nDTSTART:20270314T020000\r\nEND:DAYLIGHT/);
  });

  it('takes VTIMEZONE rules from the current tz data: Sao Paulo has had no DST since 2019', () => {
    const ics = renderIcs(input([event('sp@test', '2026-11-08T13:00:00Z', '2026-11-08T14:00:00Z')], { timeZone: 'America/Sao_Paulo' }));
    expect(ics).not.toContain('BEGIN:DAYLIGHT');
    expect(ics).toContain('DTSTART;TZID=America/Sao_Paulo:20261108T100000');
    expect(parseIcs(ics).events[0]).toMatchObject({ start: '2026-11-08T13:00:00.000Z', zone: 'America/Sao_Paulo' });
  });

  it('keeps one VEVENT per event and a quote in a name out of the CN parameter', () => {
    const ics = renderIcs(input(ACROSS_FALL_BACK.slice(0, 2)));
    const parsed = parseIcs(ics);
    expect(parsed.events.map((e) => e.uid)).toEqual(['before@test', 'spans@test']);
    expect(ics.replace(/\r\n /g, '')).toContain(`CN="Grace 'G' Hopper"`);
  });

  it('folds every line at 75 octets, never inside a character, and a parser reads the text back whole', () => {
    const summary = `Séance à Zürich — 東京から 🎉 ${'x'.repeat(40)} ${'é'.repeat(50)} ${'🎉'.repeat(30)}`;
    const ics = renderIcs(input([event('fold@test', '2026-11-02T14:00:00Z', '2026-11-02T14:30:00Z', { summary })]));
    for (const line of ics.split('\r\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
    expect(ics).not.toContain('\uFFFD');
    expect(parseIcs(ics).events[0]!.summary).toBe(summary);
  });
});

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Temporal } from 'temporal-polyfill';
import { describe, expect, it } from 'vitest';
import { expandSchedule, type WeeklySchedule } from './schedule.js';

/** 'startZ/endZ' pairs, compact enough to state every expected instant. */
function instants(schedule: WeeklySchedule, notBefore?: Date): string[] {
  return expandSchedule(schedule, { notBefore }).map((s) => `${s.startAt.toISOString()}/${s.endAt.toISOString()}`);
}

function day(timeZone: string, date: string, startTime: string, endTime: string, slotMinutes: number, stepMinutes?: number): WeeklySchedule {
  const dayOfWeek = new Date(`${date}T12:00:00Z`).getUTCDay() || 7;
  return { timeZone, daysOfWeek: [dayOfWeek], startTime, endTime, slotMinutes, stepMinutes, fromDate: date, toDate: date };
}

const z = (start: string, end: string) => `${start}:00.000Z/${end}:00.000Z`;

describe('expandSchedule: seed 000 example and weeks', () => {
  it('5-9 pm, 60 min, Mon and Wed, 2 weeks -> 16 slots at exact instants', () => {
    const slots = instants({
      timeZone: 'America/New_York',
      daysOfWeek: [1, 3],
      startTime: '17:00',
      endTime: '21:00',
      slotMinutes: 60,
      fromDate: '2026-10-05',
      toDate: '2026-10-18',
    });
    expect(slots).toHaveLength(16);
    // EDT (-04:00): 17:00 local = 21:00Z, the last slot of each evening starts at 00:00Z next day.
    const evening = (d: string, next: string) => [
      z(`${d}T21:00`, `${d}T22:00`),
      z(`${d}T22:00`, `${d}T23:00`),
      z(`${d}T23:00`, `${next}T00:00`),
      z(`${next}T00:00`, `${next}T01:00`),
    ];
    expect(slots).toEqual([
      ...evening('2026-10-05', '2026-10-06'),
      ...evening('2026-10-07', '2026-10-08'),
      ...evening('2026-10-12', '2026-10-13'),
      ...evening('2026-10-14', '2026-10-15'),
    ]);
  });

  it('crosses week boundaries (Sat..Tue) including Sunday = 7 and a window ending at 24:00', () => {
    const slots = instants({
      timeZone: 'Asia/Kolkata',
      daysOfWeek: [7, 1],
      startTime: '22:00',
      endTime: '24:00',
      slotMinutes: 60,
      fromDate: '2026-05-09',
      toDate: '2026-05-12',
    });
    // +05:30: Sun 2026-05-10 22:00 local = 16:30Z; Mon 2026-05-11 likewise.
    expect(slots).toEqual([
      z('2026-05-10T16:30', '2026-05-10T17:30'),
      z('2026-05-10T17:30', '2026-05-10T18:30'),
      z('2026-05-11T16:30', '2026-05-11T17:30'),
      z('2026-05-11T17:30', '2026-05-11T18:30'),
    ]);
  });

  it('notBefore skips slots that already started (a window starting today skips the past)', () => {
    const schedule = day('America/New_York', '2026-10-05', '17:00', '21:00', 60);
    // 18:30 local: the 17:00 and 18:00 slots have started.
    expect(instants(schedule, new Date('2026-10-05T22:30:00Z'))).toEqual([
      z('2026-10-05T23:00', '2026-10-06T00:00'),
      z('2026-10-06T00:00', '2026-10-06T01:00'),
    ]);
    expect(instants(schedule, new Date('2026-10-05T23:00:00Z'))).toHaveLength(2);
  });

  it('step shorter than the slot gives overlapping starts; slots never pass the window end', () => {
    expect(instants(day('Asia/Kathmandu', '2026-03-09', '09:00', '11:00', 45, 15))).toEqual([
      // +05:45: 09:00 local = 03:15Z
      z('2026-03-09T03:15', '2026-03-09T04:00'),
      z('2026-03-09T03:30', '2026-03-09T04:15'),
      z('2026-03-09T03:45', '2026-03-09T04:30'),
      z('2026-03-09T04:00', '2026-03-09T04:45'),
      z('2026-03-09T04:15', '2026-03-09T05:00'),
      z('2026-03-09T04:30', '2026-03-09T05:15'),
    ]);
  });
});

describe('expandSchedule: daylight saving, exact instants', () => {
  it('America/New_York 2026-03-08: 02:00 does not exist -> no slot', () => {
    expect(instants(day('America/New_York', '2026-03-08', '00:00', '04:00', 60))).toEqual([
      z('2026-03-08T05:00', '2026-03-08T06:00'), // 00:00 EST
      z('2026-03-08T06:00', '2026-03-08T07:00'), // 01:00 EST (ends 03:00 EDT)
      z('2026-03-08T07:00', '2026-03-08T08:00'), // 03:00 EDT
    ]);
  });

  it('America/New_York 2026-11-01: 01:00 occurs twice -> one slot at the first occurrence', () => {
    expect(instants(day('America/New_York', '2026-11-01', '00:00', '04:00', 60))).toEqual([
      z('2026-11-01T04:00', '2026-11-01T05:00'), // 00:00 EDT
      z('2026-11-01T05:00', '2026-11-01T06:00'), // 01:00 EDT (first 01:00)
      z('2026-11-01T07:00', '2026-11-01T08:00'), // 02:00 EST
      z('2026-11-01T08:00', '2026-11-01T09:00'), // 03:00 EST
    ]);
  });

  it('America/New_York: a normal 9-17 day keeps 8 hourly slots on both DST days', () => {
    expect(instants(day('America/New_York', '2026-03-08', '09:00', '17:00', 60))[0]).toBe(z('2026-03-08T13:00', '2026-03-08T14:00'));
    expect(instants(day('America/New_York', '2026-11-01', '09:00', '17:00', 60))[0]).toBe(z('2026-11-01T14:00', '2026-11-01T15:00'));
    expect(instants(day('America/New_York', '2026-11-01', '09:00', '17:00', 60))).toHaveLength(8);
  });

  it('Europe/London 2026-03-29: 01:00-02:00 GMT skipped', () => {
    expect(instants(day('Europe/London', '2026-03-29', '00:00', '03:00', 30))).toEqual([
      z('2026-03-29T00:00', '2026-03-29T00:30'),
      z('2026-03-29T00:30', '2026-03-29T01:00'),
      z('2026-03-29T01:00', '2026-03-29T01:30'), // 02:00 BST
      z('2026-03-29T01:30', '2026-03-29T02:00'), // 02:30 BST, ends 03:00 BST
    ]);
  });

  it('Europe/London 2026-10-25: repeated 01:00-02:00 used once (BST)', () => {
    expect(instants(day('Europe/London', '2026-10-25', '00:00', '03:00', 30))).toEqual([
      z('2026-10-24T23:00', '2026-10-24T23:30'),
      z('2026-10-24T23:30', '2026-10-25T00:00'),
      z('2026-10-25T00:00', '2026-10-25T00:30'),
      z('2026-10-25T00:30', '2026-10-25T01:00'), // 01:xx BST
      z('2026-10-25T02:00', '2026-10-25T02:30'),
      z('2026-10-25T02:30', '2026-10-25T03:00'), // 02:xx GMT
    ]);
  });

  it('a window ending inside a gap ends as far after its start as the old clock says', () => {
    // New York 2026-03-08, window 00:00-02:30: 02:30 is pushed to 03:30 EDT (07:30Z).
    expect(instants(day('America/New_York', '2026-03-08', '00:00', '02:30', 60))).toEqual([
      z('2026-03-08T05:00', '2026-03-08T06:00'),
      z('2026-03-08T06:00', '2026-03-08T07:00'),
    ]);
  });

  it('Australia/Lord_Howe 2026-04-05: 30-minute fall back, repeated 01:30 used once', () => {
    expect(instants(day('Australia/Lord_Howe', '2026-04-05', '01:00', '03:00', 30))).toEqual([
      z('2026-04-04T14:00', '2026-04-04T14:30'), // 01:00 +11:00
      z('2026-04-04T14:30', '2026-04-04T15:00'), // 01:30 +11:00 (first)
      z('2026-04-04T15:30', '2026-04-04T16:00'), // 02:00 +10:30
      z('2026-04-04T16:00', '2026-04-04T16:30'), // 02:30 +10:30
    ]);
  });

  it('Australia/Lord_Howe 2026-10-04: 30-minute spring forward, 02:00 does not exist', () => {
    expect(instants(day('Australia/Lord_Howe', '2026-10-04', '01:00', '03:00', 30))).toEqual([
      z('2026-10-03T14:30', '2026-10-03T15:00'), // 01:00 +10:30
      z('2026-10-03T15:00', '2026-10-03T15:30'), // 01:30 +10:30
      z('2026-10-03T15:30', '2026-10-03T16:00'), // 02:30 +11:00
    ]);
  });

  it('Asia/Kathmandu (+05:45) and Asia/Kolkata (+05:30, no DST) keep their offsets all year', () => {
    expect(instants(day('Asia/Kathmandu', '2026-11-01', '09:00', '10:00', 60))).toEqual([z('2026-11-01T03:15', '2026-11-01T04:15')]);
    expect(instants(day('Asia/Kolkata', '2026-03-08', '09:00', '10:00', 60))).toEqual([z('2026-03-08T03:30', '2026-03-08T04:30')]);
    expect(instants(day('Asia/Kolkata', '2026-11-01', '09:00', '10:00', 60))).toEqual([z('2026-11-01T03:30', '2026-11-01T04:30')]);
  });
});

/** The rules spelled out per slot with Temporal, no shortcuts: the reference for the fast path. */
function reference(s: WeeklySchedule): string[] {
  const out: string[] = [];
  const [sh, sm] = s.startTime.split(':').map(Number);
  const [eh, em] = s.endTime.split(':').map(Number);
  for (let d = Temporal.PlainDate.from(s.fromDate); d.toString() <= s.toDate; d = d.add({ days: 1 })) {
    if (!s.daysOfWeek.includes(d.dayOfWeek)) continue;
    const endDay = eh === 24 ? d.add({ days: 1 }) : d;
    const end = endDay.toPlainDateTime({ hour: eh! % 24, minute: em }).toZonedDateTime(s.timeZone).epochMilliseconds;
    for (let m = sh! * 60 + sm!; m < eh! * 60 + em!; m += s.stepMinutes ?? s.slotMinutes) {
      const wall = d.toPlainDateTime({ hour: Math.floor(m / 60), minute: m % 60 });
      const zoned = wall.toZonedDateTime(s.timeZone, { disambiguation: 'earlier' });
      if (!zoned.toPlainDateTime().equals(wall)) continue;
      const start = zoned.epochMilliseconds;
      if (start + s.slotMinutes * 60_000 <= end)
        out.push(`${new Date(start).toISOString()}/${new Date(start + s.slotMinutes * 60_000).toISOString()}`);
    }
  }
  return out.sort();
}

describe('expandSchedule: the per-day offset shortcut matches slot-by-slot Temporal', () => {
  const zones = [
    'America/New_York',
    'Europe/London',
    'Australia/Lord_Howe',
    'Asia/Kathmandu',
    'America/Santiago',
    'Asia/Beirut',
    'Pacific/Chatham',
    'America/Adak',
  ];
  it.each(zones)('%s over a whole year, around the clock', (timeZone) => {
    const schedule: WeeklySchedule = {
      timeZone,
      daysOfWeek: [1, 2, 3, 4, 5, 6, 7],
      startTime: '00:00',
      endTime: '24:00',
      slotMinutes: 90,
      stepMinutes: 60,
      fromDate: '2026-01-01',
      toDate: '2026-12-31',
    };
    const fast = instants(schedule);
    expect(fast.length).toBeGreaterThan(8_000);
    expect(fast).toEqual(reference(schedule));
  });
});

describe('expandSchedule: independent of the process time zone', () => {
  const cases: WeeklySchedule[] = [
    day('America/New_York', '2026-03-08', '00:00', '04:00', 60),
    day('America/New_York', '2026-11-01', '00:00', '04:00', 60),
    day('Europe/London', '2026-10-25', '00:00', '03:00', 30),
    day('Australia/Lord_Howe', '2026-04-05', '01:00', '03:00', 30),
    day('Asia/Kathmandu', '2026-03-09', '09:00', '11:00', 45, 15),
    {
      timeZone: 'Asia/Kolkata',
      daysOfWeek: [1, 3, 7],
      startTime: '17:00',
      endTime: '24:00',
      slotMinutes: 60,
      fromDate: '2026-12-28',
      toDate: '2027-01-10',
    },
  ];
  const moduleUrl = new URL('./schedule.ts', import.meta.url).href;
  const script = `
    const { expandSchedule } = await import(${JSON.stringify(moduleUrl)});
    const cases = JSON.parse(process.argv[1]);
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    process.stdout.write(JSON.stringify({ zone, results: cases.map((c) => expandSchedule(c)) }));
  `;

  it.each(['Pacific/Kiritimati', 'America/Adak'])('same results with TZ=%s', (tz) => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, JSON.stringify(cases)], {
      env: { ...process.env, TZ: tz },
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      encoding: 'utf8',
    });
    const child = JSON.parse(out) as { zone: string; results: unknown };
    expect(child.zone).toBe(tz);
    expect(JSON.stringify(child.results)).toBe(JSON.stringify(cases.map((c) => expandSchedule(c))));
    expect(cases.every((c) => expandSchedule(c).length > 0)).toBe(true);
  });
});

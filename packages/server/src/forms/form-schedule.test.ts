import { describe, expect, it } from 'vitest';
import { ValidationError, parseInput } from '../shared/errors.js';
import { formScheduleInput, slotsForSchedule } from './form-schedule.js';

const SPEC = { daysOfWeek: [1], startTime: '09:00', endTime: '10:00', slotMinutes: 30 };

function fieldErrors(value: unknown) {
  try {
    parseInput(formScheduleInput, value, ['input', 'schedule']);
    return [];
  } catch (error) {
    if (error instanceof ValidationError) return error.fieldErrors;
    throw error;
  }
}

describe('form schedule input', () => {
  it('caps a schedule at 366 local dates, both ends counted', () => {
    expect(fieldErrors({ ...SPEC, startDate: '2026-01-01', endDate: '2027-01-01' })).toEqual([]);
    expect(fieldErrors({ ...SPEC, startDate: '2026-01-01', endDate: '2027-01-02' })).toEqual([
      { path: ['input', 'schedule', 'endDate'], message: 'the window may span at most 366 days' },
    ]);
    expect(fieldErrors({ ...SPEC, startDate: '2026-03-02', endDate: '2026-03-01' })).toEqual([
      { path: ['input', 'schedule', 'endDate'], message: 'must not be before startDate' },
    ]);
  });

  it('names bad dates and wall times, and compares only what parsed', () => {
    expect(fieldErrors({ ...SPEC, startTime: '24:00', endTime: '24:00', weeks: 1 })).toEqual([
      { path: ['input', 'schedule', 'startTime'], message: 'must be HH:MM between 00:00 and 23:59' },
    ]);
    expect(fieldErrors({ ...SPEC, startTime: '22:00', endTime: '24:00', weeks: 1 })).toEqual([]);
    expect(fieldErrors({ ...SPEC, startDate: '2026-02-30', endDate: '2026-03-31' })).toEqual([
      { path: ['input', 'schedule', 'startDate'], message: 'must be a date, YYYY-MM-DD' },
    ]);
  });

  it("starts on today's date in the form's zone by default", () => {
    // 2026-03-29T23:30Z is Monday 2026-03-30 in Berlin and still Sunday 2026-03-29 in New York.
    const now = new Date('2026-03-29T23:30:00Z');
    const sundays = formScheduleInput.parse({ ...SPEC, daysOfWeek: [7], weeks: 1 });
    // Berlin: Monday 30 March to Sunday 5 April.
    expect(slotsForSchedule(sundays, 'Europe/Berlin', now).map((s) => s.startAt.toISOString())).toEqual([
      '2026-04-05T07:00:00.000Z',
      '2026-04-05T07:30:00.000Z',
    ]);
    // New York: Sunday 29 March (its 09:00 already past) to Saturday 4 April.
    expect(slotsForSchedule(sundays, 'America/New_York', now)).toEqual([]);
  });
});

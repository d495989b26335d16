import { describe, expect, it } from 'vitest';
import { ValidationError } from '../shared/errors.js';
import { localSlotInput, resolveLocalSlot } from './form-slot-input.js';

const NOW = new Date('2026-01-01T00:00:00Z');

const resolve = (date: string, startTime: string, endTime: string, zone: string) => {
  const { startAt, endAt } = resolveLocalSlot(localSlotInput.parse({ date, startTime, endTime }), zone, NOW);
  return [startAt.toISOString(), endAt.toISOString()];
};

function refusal(date: string, startTime: string, endTime: string, zone: string) {
  try {
    resolve(date, startTime, endTime, zone);
  } catch (error) {
    if (error instanceof ValidationError) return error.fieldErrors;
    throw error;
  }
  return [];
}

describe('a form slot given as a local date and wall times', () => {
  it('refuses a start or end in a spring-forward gap, naming the field', () => {
    expect(refusal('2026-03-29', '02:30', '03:30', 'Europe/Berlin')).toEqual([
      { path: ['input', 'startTime'], message: '02:30 does not exist on 2026-03-29 in Europe/Berlin (clocks move forward)' },
    ]);
    expect(refusal('2026-10-04', '01:00', '02:15', 'Australia/Lord_Howe')).toEqual([
      { path: ['input', 'endTime'], message: '02:15 does not exist on 2026-10-04 in Australia/Lord_Howe (clocks move forward)' },
    ]);
  });

  it('reads a repeated wall time as its first occurrence, and an end at or before the start as the next day', () => {
    expect(resolve('2026-11-01', '01:30', '02:30', 'America/New_York')).toEqual(['2026-11-01T05:30:00.000Z', '2026-11-01T07:30:00.000Z']); // two real hours
    expect(resolve('2026-04-05', '02:00', '03:00', 'Australia/Sydney')).toEqual(['2026-04-04T15:00:00.000Z', '2026-04-04T17:00:00.000Z']);
    expect(resolve('2026-03-28', '23:00', '00:30', 'Europe/Berlin')).toEqual(['2026-03-28T22:00:00.000Z', '2026-03-28T23:30:00.000Z']);
  });

  it('names a malformed date or wall time', () => {
    const parsed = localSlotInput.safeParse({ date: '2026-02-29', startTime: '9:00', endTime: '24:00' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['date', 'must be a date, YYYY-MM-DD'],
      ['startTime', 'must be HH:MM between 00:00 and 23:59'],
      ['endTime', 'must be HH:MM between 00:00 and 23:59'],
    ]);
  });
});

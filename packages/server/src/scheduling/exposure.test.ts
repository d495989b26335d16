import { describe, expect, it } from 'vitest';
import { dayPartOf } from '../shared/time.js';
import { exposureSeed, exposureVariant, kBounds, mulberry32, pickExposure, type ExposureCandidate } from './exposure.js';

// The pure core of seed 003's exposure: runs in memory, so it can be simulated many times.

const seedFor = (subject: string, extra: Partial<Parameters<typeof exposureSeed>[0]> = {}) =>
  exposureSeed({ subject, date: '2026-12-01', personId: null, contextWindow: 'location:L', hourSalt: 495_000, ...extra });

/** count slots per day part: ids say which part, e.g. 'm3' is a 9:00 morning slot. */
function daySlots(perPart: { m?: number; a?: number; e?: number; n?: number }): ExposureCandidate[] {
  const hours = { m: 9, a: 14, e: 19, n: 23 } as const;
  return (Object.keys(hours) as (keyof typeof hours)[]).flatMap((part) =>
    Array.from({ length: perPart[part] ?? 0 }, (_, i) => ({ id: `${part}${String(i).padStart(2, '0')}`, localHour: hours[part] })),
  );
}

describe('mulberry32', () => {
  it('is deterministic per seed and stays in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const values = Array.from({ length: 1000 }, () => a());
    expect(values).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(mulberry32(43)()).not.toBe(values[0]);
  });
});

describe('pickExposure', () => {
  const slots = daySlots({ m: 4, a: 4, e: 4 });

  it('gives the same slots and the same k for the same inputs, whatever the input order', () => {
    const seed = seedFor('session:a');
    const first = pickExposure(slots, { seed, personScoped: false, variant: 'control' });
    const again = pickExposure(slots.slice().reverse(), { seed: seedFor('session:a'), personScoped: false, variant: 'control' });
    expect(again.k).toBe(first.k);
    expect(again.picked.map((s) => s.id)).toEqual(first.picked.map((s) => s.id));
  });

  it('differs between sessions, between hours and between scopes', () => {
    const ids = (seed: Buffer) =>
      pickExposure(slots, { seed, personScoped: false, variant: 'control' })
        .picked.map((s) => s.id)
        .join();
    const bySession = new Set(Array.from({ length: 20 }, (_, i) => ids(seedFor(`session:${i}`))));
    expect(bySession.size).toBeGreaterThan(10);
    expect(ids(seedFor('session:a', { hourSalt: 1 }))).not.toBe(ids(seedFor('session:a', { hourSalt: 2 })));
    const byScope = new Set(['R1', 'R2', 'R3', 'R4'].map((r) => ids(seedFor('session:a', { personId: r, contextWindow: `resource:${r}` }))));
    expect(byScope.size).toBeGreaterThan(1);
  });

  it('keeps k within bounds for every count of slots and many seeds (property)', () => {
    for (let n = 0; n <= 12; n++) {
      const eligible = daySlots({ m: n });
      for (const personScoped of [true, false]) {
        const seen = new Set<number>();
        for (let i = 0; i < 300; i++) {
          const { k, picked } = pickExposure(eligible, { seed: seedFor(`s${i}`), personScoped, variant: 'control' });
          const expected = personScoped ? { min: Math.min(1, n), max: Math.min(n, 3) } : { min: Math.min(3, n), max: Math.min(n, 5) };
          expect(kBounds(n, personScoped)).toEqual(expected);
          expect(k).toBeGreaterThanOrEqual(expected.min);
          expect(k).toBeLessThanOrEqual(expected.max);
          expect(picked).toHaveLength(k);
          expect(new Set(picked).size).toBe(k);
          seen.add(k);
        }
        // every allowed k actually occurs
        expect(seen.size).toBe(expected(n, personScoped));
      }
    }
    function expected(n: number, personScoped: boolean) {
      const { min, max } = kBounds(n, personScoped);
      return max - min + 1;
    }
  });

  it('shows one slot of each day part when all three have slots and k >= 3', () => {
    const uneven = daySlots({ m: 1, a: 9, e: 2, n: 3 });
    for (let i = 0; i < 500; i++) {
      const { picked, k } = pickExposure(uneven, { seed: seedFor(`s${i}`), personScoped: i % 2 === 0, variant: 'control' });
      const parts = new Set(picked.map((s) => dayPartOf(s.localHour)));
      if (k >= 3) expect([...parts].filter((p) => p !== 'NIGHT').sort()).toEqual(['AFTERNOON', 'EVENING', 'MORNING']);
      else expect(parts.size).toBe(k); // k < 3: still never two of the same part
    }
  });

  it('plain shuffle without fairness (no-fairness variant) can pick two afternoons with k = 3', () => {
    const afternoonHeavy = daySlots({ m: 1, a: 20, e: 1 });
    const unfair = Array.from({ length: 200 }, (_, i) =>
      pickExposure(afternoonHeavy, { seed: seedFor(`s${i}`), personScoped: false, variant: 'no-fairness' }),
    );
    expect(unfair.some(({ picked }) => picked.filter((s) => s.id.startsWith('a')).length >= 2 && picked.length === 3)).toBe(true);
  });

  // Tolerance: each slot's share is within ±10% of the mean share. With 10,000 sessions a slot is
  // expected about 2,200-3,300 times, so sampling noise alone is about ±2%; a bias shows well above that.
  it.each([
    ['location-scoped, 4/4/4 slots', false, daySlots({ m: 4, a: 4, e: 4 })],
    ['person-scoped, 3/3/3 slots', true, daySlots({ m: 3, a: 3, e: 3 })],
    ['person-scoped, 5 afternoon slots only', true, daySlots({ a: 5 })],
  ] as const)('exposes every eligible slot a roughly equal share over 10,000 sessions (%s)', (_name, personScoped, eligible) => {
    const counts = new Map(eligible.map((s) => [s.id, 0]));
    const sessions = 10_000;
    for (let i = 0; i < sessions; i++) {
      const { picked } = pickExposure(eligible, { seed: seedFor(`session-${i}`), personScoped, variant: 'control' });
      for (const s of picked) counts.set(s.id, counts.get(s.id)! + 1);
    }
    const values = [...counts.values()];
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    for (const value of values) expect(Math.abs(value - mean) / mean).toBeLessThan(0.1);
  });
});

describe('exposureVariant', () => {
  it('reads the header and falls back to control', () => {
    expect(exposureVariant('no-fairness')).toBe('no-fairness');
    expect(exposureVariant(' No-Fairness ')).toBe('no-fairness');
    expect(exposureVariant('control')).toBe('control');
    expect(exposureVariant('something-else')).toBe('control');
    expect(exposureVariant(null)).toBe('control');
  });
});

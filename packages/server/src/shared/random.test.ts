import { describe, expect, it } from 'vitest';
import { randomBytes } from './random.js';

describe('randomBytes (pooled)', () => {
  it('gives each caller bytes of its own: no two pieces share memory, across pool refills', () => {
    const pieces = Array.from({ length: 2000 }, (_, i) => randomBytes(1 + (i % 40)));
    pieces.forEach((piece, i) => piece.fill(i % 251));
    // Had two pieces overlapped, the later fill would show in the earlier one.
    pieces.forEach((piece, i) => {
      expect(piece.length).toBe(1 + (i % 40));
      expect(piece.every((b) => b === i % 251)).toBe(true);
    });
  });

  it('never hands out the same bytes twice (20,000 ids of 16 bytes, 80 pool refills)', () => {
    const seen = new Set(Array.from({ length: 20_000 }, () => randomBytes(16).toString('hex')));
    expect(seen.size).toBe(20_000);
  });

  it('looks uniform: every byte value turns up about as often as the others', () => {
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 1000; i++) for (const b of randomBytes(256)) counts[b]!++;
    // 1000 draws per value expected (sd about 32): more than 6 sd off happens by chance about once in a
    // million runs; a pool handed out unfilled (zeros, or whatever the allocation held) would be far outside it.
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
  });

  it('serves sizes larger than the pool, and a piece that does not fit what is left from a fresh pool', () => {
    expect(randomBytes(10_000).length).toBe(10_000);
    const a = randomBytes(4000);
    const b = randomBytes(200);
    expect(a.length + b.length).toBe(4200);
    expect(a.buffer === b.buffer).toBe(false);
  });
});

import { createHash } from 'node:crypto';
import { dayPartOf, type DayPart } from '../shared/time.js';

/**
 * Seed 003's slot exposure as a pure function: the same inputs always give the same slots and k.
 * The service around it loads slots, frees expired holds and keeps the sticky cache.
 */

export const EXPOSURE_VARIANTS = ['control', 'no-fairness'] as const;
export type ExposureVariant = (typeof EXPOSURE_VARIANTS)[number];

/** The X-Exposure-Variant header; anything unknown runs the control algorithm. */
export function exposureVariant(header: string | null | undefined): ExposureVariant {
  const value = header?.trim().toLowerCase();
  return (EXPOSURE_VARIANTS as readonly string[]).includes(value ?? '') ? (value as ExposureVariant) : 'control';
}

export interface SeedParts {
  /** The signed-in user's id, or the caller's session id. */
  subject: string;
  /** The local date asked for, YYYY-MM-DD. */
  date: string;
  /** The person (resource) id for person-scoped queries; null means 'all'. */
  personId: string | null;
  /** What else identifies the view: the scope (`resource:<id>` / `location:<id>`). */
  contextWindow: string;
  /** Hours since the epoch: the seed rotates every hour so no slot starves for long. */
  hourSalt: number;
}

/** sha256 over the seed parts; the digest's 32-bit words seed independent generators. */
export function exposureSeed(parts: SeedParts): Buffer {
  const text = [parts.subject, parts.date, parts.personId ?? 'all', parts.contextWindow, String(parts.hourSalt)].join('\u001f');
  return createHash('sha256').update(text).digest();
}

export function hourSalt(now: Date): number {
  return Math.floor(now.getTime() / 3_600_000);
}

/**
 * mulberry32: a tiny 32-bit PRNG (Tommy Ettinger's). Not cryptographic; it only has to be
 * deterministic for a seed and spread evenly, which is all a shuffle needs. Returns [0, 1).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Fisher-Yates with a seeded generator: a copy, the input is left alone. */
export function deterministicShuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Person-scoped: 1..min(n,3); location-scoped: 3..min(n,5); never more than n. */
export function kBounds(n: number, personScoped: boolean): { min: number; max: number } {
  if (n === 0) return { min: 0, max: 0 };
  if (personScoped) return { min: 1, max: Math.min(n, 3) };
  return n < 3 ? { min: n, max: n } : { min: 3, max: Math.min(n, 5) };
}

export interface ExposureCandidate {
  id: string;
  /** Hour of the slot start on its local wall clock (0-23). */
  localHour: number;
}

export interface ExposurePick<T> {
  picked: T[];
  k: number;
}

const FAIR_PARTS: DayPart[] = ['MORNING', 'AFTERNOON', 'EVENING'];

/** Chooses k of the eligible slots as seed 003's pseudocode does (see the README for the one change). */
export function pickExposure<T extends ExposureCandidate>(
  eligible: readonly T[],
  options: { seed: Buffer; personScoped: boolean; variant: ExposureVariant },
): ExposurePick<T> {
  // Sort first so the database's row order can never change the outcome.
  const sorted = eligible.slice().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const shuffled = deterministicShuffle(sorted, mulberry32(options.seed.readUInt32BE(0)));
  const { min, max } = kBounds(sorted.length, options.personScoped);
  const k = min + Math.floor(mulberry32(options.seed.readUInt32BE(4))() * (max - min + 1));
  if (options.variant === 'no-fairness') return { picked: shuffled.slice(0, k), k };

  // One slot from each day part first. Parts are visited in the order their first slot appears in
  // the shuffle, not always morning first: with a fixed order a k=1 view would only ever show mornings.
  const heads = new Map<DayPart, T>();
  for (const slot of shuffled) {
    const part = dayPartOf(slot.localHour);
    if (FAIR_PARTS.includes(part) && !heads.has(part)) heads.set(part, slot);
  }
  const picked = [...heads.values()].slice(0, k);
  const rest = shuffled.filter((s) => !picked.includes(s));
  picked.push(...rest.slice(0, Math.max(0, k - picked.length)));
  return { picked, k };
}

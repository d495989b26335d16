import type { SqlQuery } from '../db/database.js';
import type { SearchService } from '../scheduling/search.service.js';
import type { ProposalTarget } from './proposal-target.js';
import type { BookingParties } from './parties.js';
import { selectFreeSlotsBeside } from './proposal.store.js';

/** How far ahead the proposal page offers times, and how many at most. */
export const PROPOSAL_WINDOW_DAYS = 14;
export const MAX_PROPOSAL_TIMES = 60;
const DAY_MS = 86_400_000;

export interface FreeTime {
  /** The form value: `slot:<id>` or `range:<start ISO>/<end ISO>`. */
  value: string;
  startAt: Date;
  endAt: Date;
}

/**
 * The host's free times a booking can move to: free slots of its resource (slot bookings), or free
 * ranges of the same length on its exclusive resource (range bookings, through the search service).
 */
export async function freeTimes(sql: SqlQuery, search: SearchService, b: BookingParties, now: Date): Promise<FreeTime[]> {
  const to = new Date(now.getTime() + PROPOSAL_WINDOW_DAYS * DAY_MS);
  if (b.kind === 'RANGE') {
    const minutes = Math.round((b.endAt.getTime() - b.startAt.getTime()) / 60_000);
    const [result] = await search.searchAvailability({ resourceId: b.resourceId! }, now, to, minutes);
    return (result?.ranges ?? [])
      .slice(0, MAX_PROPOSAL_TIMES)
      .map((r) => ({ value: rangeValue(r.startAt, r.endAt), startAt: r.startAt, endAt: r.endAt }));
  }
  const rows = await selectFreeSlotsBeside(sql, b.slotId, now, to, MAX_PROPOSAL_TIMES);
  return rows.map((r) => ({ value: `slot:${r.id}`, startAt: new Date(r.start_at), endAt: new Date(r.end_at) }));
}

const rangeValue = (startAt: Date, endAt: Date) => `range:${startAt.toISOString()}/${endAt.toISOString()}`;

/** A chosen form value back to a target; null when it is not one of the two shapes. */
export function targetFromValue(value: string): ProposalTarget | null {
  const slot = /^slot:([0-9a-f-]{36})$/.exec(value);
  if (slot) return { slotId: slot[1]! };
  const range = /^range:([^/]+)\/(.+)$/.exec(value);
  if (!range) return null;
  const startAt = new Date(range[1]!);
  const endAt = new Date(range[2]!);
  return Number.isNaN(startAt.getTime()) || Number.isNaN(endAt.getTime()) ? null : { range: { startAt, endAt } };
}

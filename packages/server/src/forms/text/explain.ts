import { toLocal } from '../../shared/time.js';
import type { FormFromText } from './form-from-text.js';

const DAYS = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** What was understood, in one paragraph: the form, the schedule, the zone and where it came from, the slot count. */
export function explain(r: Pick<FormFromText, 'extracted' | 'slots' | 'extractor' | 'fallbackReason'>): string {
  const { extracted: e, slots } = r;
  const s = e.schedule;
  const range = s.endDate ? `from ${s.startDate} to ${s.endDate}` : `for ${s.weeks} week(s) from ${s.startDate}`;
  const first = slots[0] ? ` First slot: ${toLocal(slots[0].startAt, e.timeZone).iso}.` : '';
  return [
    `"${e.title}": ${s.daysOfWeek.map((d) => DAYS[d]).join(', ')} ${s.startTime}-${s.endTime}, ${s.slotMinutes}-minute slots of ${s.capacityPerSlot} place(s), ${range},`,
    `in ${e.timeZone} (${e.timeZoneSource})${e.maxSlotsPerRegistration ? `, at most ${e.maxSlotsPerRegistration} per person` : ''}: ${slots.length} slot(s).${first}`,
    r.extractor === 'LLM' ? 'Read by the LLM.' : r.fallbackReason ? `${r.fallbackReason}.` : 'Read by the offline extractor.',
  ].join(' ');
}

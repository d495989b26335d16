import type { Logger } from 'pino';
import { Temporal } from 'temporal-polyfill';
import type { Config } from '../../config.js';
import type { PrismaClient } from '../../generated/prisma/client.js';
import { toLocal, todayIn } from '../../shared/time.js';
import { formAnalytics, type FormAnalytics } from '../form-analytics.js';
import { DAY, dayNumber } from './phrases.js';
import { LlmUnavailableError, type LlmClient } from './llm-client.js';
import { pii } from '../../shared/pii.js';

export type InsightIntent = 'FULLNESS' | 'BEST_DAY' | 'WHO_SIGNED_UP' | 'SEATS_LEFT' | 'OTHER';

export interface FormInsight {
  question: string | null;
  intent: InsightIntent;
  answer: string;
  /** The numbers the answer was made from: formAnalytics of the form. */
  analytics: FormAnalytics;
  source: 'OFFLINE' | 'LLM';
  fallbackReason: string | null;
}

const WEEKDAYS = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const pct = (rate: number) => `${Math.round(rate * 100)}%`;
const OFFLINE_QUESTIONS = '"how full is it", "which day fills best", "who signed up for Monday", "how many seats are left next week"';

/**
 * formInsights: common questions answered offline from formAnalytics' numbers, in the form's
 * zone; other questions go to the LLM when configured, with the numbers only (names only when
 * LLM_SHARE_PERSONAL_DATA is true).
 */
export class FormInsightsService {
  constructor(
    private readonly prisma: PrismaClient,
    /** The forms' clock (tests pin it there). */
    private readonly clock: { now(): Date },
    private readonly llm: LlmClient,
    private readonly config: Pick<Config, 'LLM_SHARE_PERSONAL_DATA'>,
  ) {}

  async ask(formId: string, question: string | null, log: Logger): Promise<FormInsight> {
    const analytics = await formAnalytics(this.prisma, formId);
    const q = (question ?? '').toLowerCase();
    const today = Temporal.PlainDate.from(todayIn(analytics.timeZone, this.clock.now()));
    const reply = (intent: InsightIntent, answer: string): FormInsight => ({
      question,
      intent,
      answer,
      analytics,
      source: 'OFFLINE',
      fallbackReason: null,
    });

    if (/\bwho\b/.test(q)) return reply('WHO_SIGNED_UP', await this.whoSignedUp(formId, analytics.timeZone, q, today));
    if (/\b(left|remaining|available|free|open)\b/.test(q)) return reply('SEATS_LEFT', seatsLeft(analytics, q, today));
    if (/\b(which|what|best|busiest|most popular)\b.*\b(day|weekday)\b|\bfills? best\b/.test(q)) return reply('BEST_DAY', bestDay(analytics));
    if (!q.trim() || /\b(full|fill|booked|how many|status|summary)\b/.test(q)) return reply('FULLNESS', fullness(analytics));
    if (!this.llm.configured) return reply('OTHER', `I can answer ${OFFLINE_QUESTIONS}. ${fullness(analytics)}`);
    const answered = await this.askLlm(formId, question!, analytics, today, log);
    if ('answer' in answered) return { ...reply('OTHER', answered.answer), source: 'LLM' };
    return {
      ...reply('OTHER', `I can answer ${OFFLINE_QUESTIONS}. ${fullness(analytics)}`),
      fallbackReason: `LLM answer not used: ${answered.failure}`,
    };
  }

  private async whoSignedUp(formId: string, timeZone: string, q: string, today: Temporal.PlainDate): Promise<string> {
    const day = new RegExp(`\\b(${DAY})\\b`, 'i').exec(q);
    const rows = await this.prisma.registrationSlot.findMany({
      where: { slot: { formId }, booking: { status: { in: ['CONFIRMED', 'HELD'] } } },
      select: { registration: { select: { name: true } }, slot: { select: { startAt: true } } },
      orderBy: [{ slot: { startAt: 'asc' } }],
    });
    const weekday = day ? dayNumber(day[1]!) : null;
    const wanted = rows.filter((r) => {
      if (weekday === null) return true;
      return (
        Temporal.PlainDate.from(toLocal(r.slot.startAt, timeZone).date).dayOfWeek === weekday &&
        toLocal(r.slot.startAt, timeZone).date >= today.toString()
      );
    });
    const names = [...new Set(wanted.map((r) => pii().readText(r.registration.name)))];
    const when = weekday ? ` for ${WEEKDAYS[weekday]} (upcoming)` : '';
    return names.length ? `${names.length} signed up${when}: ${names.join(', ')}.` : `Nobody has signed up${when} yet.`;
  }

  private async askLlm(
    formId: string,
    question: string,
    analytics: FormAnalytics,
    today: Temporal.PlainDate,
    log: Logger,
  ): Promise<{ answer: string } | { failure: string }> {
    const facts: Record<string, unknown> = { today: today.toString(), ...analytics, formId: undefined };
    if (this.config.LLM_SHARE_PERSONAL_DATA) {
      const rows = await this.prisma.registrationSlot.findMany({
        where: { slot: { formId }, booking: { status: { in: ['CONFIRMED', 'HELD'] } } },
        select: { registration: { select: { name: true } }, slot: { select: { startAt: true } } },
      });
      facts.signups = rows.map((r) => ({ name: pii().readText(r.registration.name), slotStart: toLocal(r.slot.startAt, analytics.timeZone).iso }));
    }
    try {
      const raw = await this.llm.json(
        'Answer the question about a signup form in one or two sentences, using only the JSON facts given. Dates are local to timeZone. If the facts do not answer it, say so.',
        `Facts: ${JSON.stringify(facts)}\nQuestion: ${question}`,
        {
          name: 'form_insight',
          schema: { type: 'object', additionalProperties: false, required: ['answer'], properties: { answer: { type: 'string' } } },
        },
        log,
      );
      const answer = (raw as { answer?: unknown })?.answer;
      if (typeof answer !== 'string' || !answer.trim()) return { failure: 'the answer did not match the contract' };
      return { answer: answer.trim() };
    } catch (err) {
      if (err instanceof LlmUnavailableError) return { failure: err.message };
      throw err;
    }
  }
}

export function fullness(a: FormAnalytics): string {
  return `${a.seatsBooked} of ${a.capacity} places booked (${pct(a.fillRate)}) across ${a.totalSlots} slots; ${a.fullSlots} full, ${a.bookedSlots} with at least one booking; ${a.registrations} registration(s).`;
}

/** The weekday (in the form's zone) with the highest fill rate; ties go to more seats booked, then the earlier weekday. */
export function bestDay(a: FormAnalytics): string {
  const byWeekday = new Map<number, { capacity: number; seatsBooked: number }>();
  for (const d of a.days) {
    const w = Temporal.PlainDate.from(d.date).dayOfWeek;
    const sum = byWeekday.get(w) ?? { capacity: 0, seatsBooked: 0 };
    byWeekday.set(w, { capacity: sum.capacity + d.capacity, seatsBooked: sum.seatsBooked + d.seatsBooked });
  }
  const ranked = [...byWeekday].map(([w, s]) => ({ w, ...s, rate: s.capacity ? s.seatsBooked / s.capacity : 0 }));
  ranked.sort((x, y) => y.rate - x.rate || y.seatsBooked - x.seatsBooked || x.w - y.w);
  const best = ranked[0];
  if (!best) return 'The form has no slots yet.';
  return `${WEEKDAYS[best.w]} fills best: ${best.seatsBooked} of ${best.capacity} places booked (${pct(best.rate)}).`;
}

/** Places left (capacity - seatsBooked) on days from today on, or in "this week" / "next week" / a named weekday. */
export function seatsLeft(a: FormAnalytics, q: string, today: Temporal.PlainDate): string {
  let from = today;
  let to: Temporal.PlainDate | null = null;
  let label = 'in upcoming slots';
  const day = new RegExp(`\\b(${DAY})\\b`, 'i').exec(q);
  if (/\bnext week\b/.test(q)) {
    from = today.add({ days: 8 - today.dayOfWeek });
    to = from.add({ days: 6 });
    label = `next week (${from} to ${to})`;
  } else if (/\bthis week\b/.test(q)) {
    to = today.add({ days: 7 - today.dayOfWeek });
    label = `this week (${from} to ${to})`;
  }
  const weekday = day ? dayNumber(day[1]!) : null;
  if (weekday) label += ` on ${WEEKDAYS[weekday]}s`;
  const days = a.days.filter((d) => {
    const date = Temporal.PlainDate.from(d.date);
    return (
      Temporal.PlainDate.compare(date, from) >= 0 && (!to || Temporal.PlainDate.compare(date, to) <= 0) && (!weekday || date.dayOfWeek === weekday)
    );
  });
  const capacity = days.reduce((n, d) => n + d.capacity, 0);
  const left = capacity - days.reduce((n, d) => n + d.seatsBooked, 0);
  return `${left} of ${capacity} places left ${label}.`;
}

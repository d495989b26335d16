import type { Logger } from 'pino';
import { z } from 'zod';
import { Temporal } from 'temporal-polyfill';
import { addDays, isValidTimeZone, todayIn } from '../../shared/time.js';
import type { ExtractedForm } from './extracted-form.js';
import { FormTextNotUnderstoodError } from './form-text.errors.js';
import { LlmUnavailableError, type LlmClient } from './llm-client.js';
import type { ExtractOptions } from './offline-extractor.js';

const nullable = (type: string | string[]) => ({ type: [type, 'null'].flat() });
const HHMM = '^([01]\\d|2[0-3]):[0-5]\\d$|^24:00$';

/** The strict contract the model must answer with (OpenAI structured outputs: every key required). */
const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['title', 'description', 'timeZone', 'schedule', 'maxSlotsPerRegistration', 'unsupported'],
  properties: {
    title: { type: 'string' },
    description: nullable('string'),
    timeZone: { ...nullable('string'), description: 'IANA zone only if the text states one, else null' },
    maxSlotsPerRegistration: nullable('integer'),
    unsupported: { type: 'array', items: { type: 'string' }, description: 'phrases of the text this contract cannot express' },
    schedule: {
      type: 'object',
      additionalProperties: false,
      required: ['daysOfWeek', 'startTime', 'endTime', 'slotMinutes', 'capacityPerSlot', 'startDate', 'endDate', 'weeks'],
      properties: {
        daysOfWeek: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 7 } },
        startTime: { type: 'string', pattern: HHMM },
        endTime: { type: 'string', pattern: HHMM },
        slotMinutes: { type: 'integer' },
        capacityPerSlot: { type: 'integer' },
        startDate: nullable('string'),
        endDate: nullable('string'),
        weeks: nullable('integer'),
      },
    },
  },
} as const;

const answer = z.object({
  title: z.string().trim().min(1),
  description: z.string().nullable(),
  timeZone: z.string().refine(isValidTimeZone).nullable(),
  maxSlotsPerRegistration: z.number().int().positive().nullable(),
  unsupported: z.array(z.string()),
  schedule: z.object({
    daysOfWeek: z.array(z.number().int().min(1).max(7)).min(1),
    startTime: z.string().regex(new RegExp(HHMM)),
    endTime: z.string().regex(new RegExp(HHMM)),
    slotMinutes: z.number().int().positive(),
    capacityPerSlot: z.number().int().positive(),
    startDate: z.iso.date().nullable(),
    endDate: z.iso.date().nullable(),
    weeks: z.number().int().positive().nullable(),
  }),
});

const SYSTEM = `You turn one sentence describing a signup sheet into JSON for a scheduling API.
Days are ISO numbers (1 = Monday ... 7 = Sunday). Times are 24-hour HH:MM local times. slotMinutes is the length of one slot.
Give either weeks or endDate (the last date, inclusive), not both. startDate null means "from tomorrow".
timeZone is an IANA zone and only when the sentence states one (map "Eastern" to America/New_York, "UTC+2" to Etc/GMT-2).
List in "unsupported" every phrase that this contract cannot express (exceptions, breaks, alternating weeks, several windows); never drop a constraint silently.`;

/**
 * Asks the configured model to read the sentence. Returns null (with the reason) when the answer
 * is missing, invalid or late, so the caller falls back to the offline extractor.
 */
export async function extractWithLlm(
  llm: LlmClient,
  text: string,
  options: ExtractOptions,
  log: Logger,
): Promise<{ extracted: ExtractedForm } | { failure: string }> {
  const zone = options.fallbackZone;
  const today = Temporal.PlainDate.from(todayIn(zone, options.now));
  let raw: unknown;
  try {
    raw = await llm.json(
      SYSTEM,
      `Today is ${today} (${today.dayOfWeek === 1 ? 'Monday' : `ISO weekday ${today.dayOfWeek}`}) in ${zone}.\nSentence: ${text}`,
      { name: 'signup_form', schema: SCHEMA },
      log,
    );
  } catch (err) {
    if (err instanceof LlmUnavailableError) return { failure: err.message };
    throw err;
  }
  const parsed = answer.safeParse(raw);
  if (!parsed.success) return { failure: `the answer did not match the contract (${parsed.error.issues[0]!.path.join('.') || 'root'})` };
  const a = parsed.data;
  if (a.unsupported.length) throw new FormTextNotUnderstoodError(a.unsupported, [], [], []);
  const timeZone = a.timeZone ?? zone;
  const start = a.schedule.startDate ?? addDays(todayIn(timeZone, options.now), 1);
  return {
    extracted: {
      title: a.title,
      description: a.description,
      timeZone,
      timeZoneSource: a.timeZone ? 'stated in the text (read by the LLM)' : options.fallbackZoneSource,
      maxSlotsPerRegistration: a.maxSlotsPerRegistration,
      schedule: { ...a.schedule, daysOfWeek: [...new Set(a.schedule.daysOfWeek)].sort(), startDate: start },
      understood: [{ phrase: text, meaning: 'read by the LLM' }],
    },
  };
}

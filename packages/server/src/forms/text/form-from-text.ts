import type { Logger } from 'pino';
import { z } from 'zod';
import type { Config } from '../../config.js';
import type { Form, PrismaClient } from '../../generated/prisma/client.js';
import type { Actor } from '../../shared/actor.js';
import { ValidationError, parseInput } from '../../shared/errors.js';
import { timeZoneSchema } from '../../shared/validation.js';
import { slotsForSchedule, type GeneratedSlot } from '../form-schedule.js';
import { createFormInput, type FormsService } from '../forms.service.js';
import type { ExtractedForm } from './extracted-form.js';
import type { LlmClient } from './llm-client.js';
import { extractWithLlm } from './llm-extractor.js';
import { extractOffline, type ExtractOptions } from './offline-extractor.js';

export const createFormFromTextInput = z.object({
  text: z.string().trim().min(1, 'must not be empty').max(2000, 'must be at most 2000 characters'),
  timeZone: timeZoneSchema.nullish(),
  dryRun: z.boolean().nullish(),
});

export interface FormFromText {
  /** The created draft form; null on a dry run. */
  form: Form | null;
  dryRun: boolean;
  extracted: ExtractedForm;
  slots: GeneratedSlot[];
  extractor: 'OFFLINE' | 'LLM';
  /** Why the LLM answer was not used, when one was asked for. */
  fallbackReason: string | null;
}

/**
 * createFormFromText: reads the sentence (LLM when configured, else or on failure offline), then
 * goes through createForm's own schema, slot limit and transaction.
 */
export class FormFromTextService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly forms: FormsService,
    private readonly llm: LlmClient,
    private readonly config: Pick<Config, 'DEFAULT_TIME_ZONE'>,
  ) {}

  async create(input: z.input<typeof createFormFromTextInput>, actor: Actor | null, log: Logger): Promise<FormFromText> {
    const { text, timeZone, dryRun } = parseInput(createFormFromTextInput, input);
    const now = this.forms.now();
    const options: ExtractOptions = { now, ...(await this.fallbackZone(timeZone ?? null, actor)) };
    let extractor: FormFromText['extractor'] = 'OFFLINE';
    let fallbackReason: string | null = null;
    let extracted: ExtractedForm | null = null;
    if (this.llm.configured) {
      const result = await extractWithLlm(this.llm, text, options, log);
      if ('extracted' in result) {
        extracted = result.extracted;
        extractor = 'LLM';
      } else fallbackReason = `LLM answer not used: ${result.failure}; read offline instead`;
    }
    extracted ??= extractOffline(text, options);

    const base = slugFor(extracted.title);
    const candidate = {
      title: extracted.title,
      description: extracted.description,
      slug: base,
      timeZone: extracted.timeZone,
      maxSlotsPerRegistration: extracted.maxSlotsPerRegistration,
      schedule: extracted.schedule,
    };
    const data = parseInput(createFormInput, candidate);
    const slots = slotsForSchedule(data.schedule!, data.timeZone, now);
    if (dryRun) return { form: null, dryRun: true, extracted, slots, extractor, fallbackReason };
    const form = await this.createWithFreeSlug(candidate, base, actor);
    return { form, dryRun: false, extracted, slots, extractor, fallbackReason };
  }

  /** The argument, else the zone of the caller's latest form, else DEFAULT_TIME_ZONE (with where it came from). */
  private async fallbackZone(argument: string | null, actor: Actor | null): Promise<Pick<ExtractOptions, 'fallbackZone' | 'fallbackZoneSource'>> {
    if (argument) return { fallbackZone: argument, fallbackZoneSource: 'the timeZone argument' };
    const latest = actor
      ? await this.prisma.form.findFirst({ where: { createdById: actor.userId }, orderBy: { createdAt: 'desc' }, select: { timeZone: true } })
      : null;
    if (latest) return { fallbackZone: latest.timeZone, fallbackZoneSource: "the caller's default (zone of their latest form)" };
    return { fallbackZone: this.config.DEFAULT_TIME_ZONE, fallbackZoneSource: 'DEFAULT_TIME_ZONE' };
  }

  /** The title's slug, or slug-2, slug-3 ... when taken (a race for one is decided by createForm's unique index). */
  private async createWithFreeSlug(candidate: Parameters<FormsService['create']>[0], base: string, actor: Actor | null): Promise<Form> {
    for (let n = 1; ; n++) {
      const slug = n === 1 ? base : `${base.slice(0, 75)}-${n}`;
      try {
        return await this.forms.create({ ...candidate, slug }, actor);
      } catch (err) {
        const taken = err instanceof ValidationError && err.fieldErrors.some((e) => e.path.join('.') === 'input.slug');
        if (!taken || n >= 50) throw err;
      }
    }
  }
}

/** "1-1 Soccer Coaching!" -> "1-1-soccer-coaching" (at most 80 characters, never empty). */
export function slugFor(title: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 72)
    .replace(/-+$/, '');
  return slug || 'form';
}

import { z } from 'zod';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Form, Slot } from '../generated/prisma/client.js';
import type { SlotChange, SlotChangeReason, SlotEvents } from '../events/slot-events.js';
import type { Role } from '../generated/prisma/enums.js';
import type { Actor } from '../shared/actor.js';
import { hasAnyRole, STAFF_ROLES } from '../shared/actor.js';
import { NotFoundError, ValidationError, parseInput } from '../shared/errors.js';
import { timeZoneSchema } from '../shared/validation.js';
import { formScheduleInput, slotsForSchedule } from './form-schedule.js';
import { localSlotInput, resolveLocalSlot } from './form-slot-input.js';
import { FormSlotBookedError, FormSlotLimitError, MAX_SLOTS_PER_FORM } from './forms.errors.js';
import { cancelFreeSlot, insertForm, insertFormSlot, insertFormSlots, lockForm, setFormStatus } from './forms.store.js';

const slug = z
  .string()
  .max(80, 'must be at most 80 characters')
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'use lowercase letters, digits and single hyphens, e.g. soccer-coaching');

/** Whether a value can be a slug at all: anything else (a NUL byte PostgreSQL refuses, say) names no form. */
export function isSlug(value: string): boolean {
  return slug.safeParse(value).success;
}

export const createFormInput = z.object({
  title: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  description: z.string().trim().max(5000, 'must be at most 5000 characters').nullish(),
  slug,
  timeZone: timeZoneSchema,
  maxSlotsPerRegistration: z.number().int().min(1, 'must be at least 1').max(MAX_SLOTS_PER_FORM).nullish(),
  locationId: z.string().nullish(),
  schedule: formScheduleInput.nullish(),
});

export type CreateFormInput = z.input<typeof createFormInput>;

/** Who may create and change forms (admin always may). */
export const FORM_EDITORS: Role[] = ['manager', 'scheduler'];

/** A form slot change as published to live subscribers. */
export function formSlotChange(slot: Pick<Slot, 'id' | 'version' | 'locationId' | 'formId'>, reason: SlotChangeReason): SlotChange {
  return { slotId: slot.id, version: slot.version, reason, locationId: slot.locationId, resourceId: null, formId: slot.formId };
}

export class FormsService {
  /** The clock; tests replace it to pin "now". */
  now: () => Date = () => new Date();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly slotEvents: SlotEvents,
  ) {}

  /** The form and all its scheduled slots in one transaction; nothing is written when any check fails. */
  async create(input: CreateFormInput, actor: Actor | null): Promise<Form> {
    const data = parseInput(createFormInput, input);
    const now = this.now();
    const slots = data.schedule ? slotsForSchedule(data.schedule, data.timeZone, now) : [];
    if (data.locationId && !(await this.prisma.location.findUnique({ where: { id: data.locationId }, select: { id: true } }))) {
      throw new NotFoundError('Location', data.locationId);
    }
    await this.assertSlugFree(data.slug);
    const { form, created } = await this.prisma
      .$transaction(async (tx) => {
        const form = await insertForm(tx, {
          slug: data.slug,
          title: data.title,
          description: data.description ?? null,
          timeZone: data.timeZone,
          maxSlotsPerRegistration: data.maxSlotsPerRegistration ?? null,
          locationId: data.locationId ?? null,
          createdById: actor?.userId ?? null,
        });
        const created = await insertFormSlots(tx, form, slots);
        return { form, created };
      })
      .catch((err) => rethrowDuplicateSlug(err));
    await this.slotEvents.publish(created.map((s) => formSlotChange(s, 'GENERATED')));
    return form;
  }

  async publish(id: string): Promise<Form> {
    const form = await this.get(id);
    if (form.status === 'PUBLISHED') return form;
    const published = await setFormStatus(this.prisma, id, { status: 'PUBLISHED', publishedAt: this.now(), closedAt: null });
    await this.slotEvents.scopeChanged('form', id);
    return published;
  }

  async close(id: string): Promise<Form> {
    const form = await this.get(id);
    if (form.status === 'CLOSED') return form;
    const closed = await setFormStatus(this.prisma, id, { status: 'CLOSED', closedAt: this.now() });
    // Its public live subscriptions end (drafts and closed forms are staff's).
    this.slotEvents.formClosed(id);
    // Anonymous callers must stop seeing its slots now, not when a cached answer expires.
    await this.slotEvents.scopeChanged('form', id);
    return closed;
  }

  /** One more slot, given as instants or as a local date and wall times in the form's zone. */
  async addSlot(formId: string, input: z.input<typeof localSlotInput>): Promise<Slot> {
    const form = await this.get(formId);
    const { startAt, endAt, capacity } = resolveLocalSlot(parseInput(localSlotInput, input), form.timeZone, this.now());
    const slot = await this.prisma.$transaction(async (tx) => {
      // Lock the form so two concurrent additions cannot both pass the limit.
      await lockForm(tx, form.id);
      const count = await tx.slot.count({ where: { formId: form.id, status: { not: 'CANCELLED' } } });
      if (count >= MAX_SLOTS_PER_FORM) throw new FormSlotLimitError(count + 1);
      const duplicate = await tx.slot.findFirst({ where: { formId: form.id, startAt, endAt }, select: { id: true } });
      if (duplicate) throw ValidationError.field(['input', 'startAt'], 'the form already has a slot at this time');
      return insertFormSlot(tx, form, { startAt, endAt, capacity });
    });
    await this.slotEvents.publish([formSlotChange(slot, 'GENERATED')]);
    return slot;
  }

  /**
   * More slots for an existing form from a schedule, with the rules of createForm (past windows
   * skipped, at most MAX_SLOTS_PER_FORM live slots in all). Times the form already has are left as
   * they are; the new slots are returned.
   */
  async addSchedule(formId: string, input: z.input<typeof formScheduleInput>): Promise<Slot[]> {
    const form = await this.get(formId);
    const spec = parseInput(formScheduleInput, input, ['schedule']);
    const planned = slotsForSchedule(spec, form.timeZone, this.now());
    const created = await this.prisma.$transaction(async (tx) => {
      // Lock the form so concurrent additions cannot both pass the limit.
      await lockForm(tx, form.id);
      const existing = await tx.slot.findMany({ where: { formId: form.id }, select: { startAt: true, endAt: true, status: true } });
      const taken = new Set(existing.map((s) => `${s.startAt.getTime()}/${s.endAt.getTime()}`));
      const fresh = planned.filter((s) => !taken.has(`${s.startAt.getTime()}/${s.endAt.getTime()}`));
      const live = existing.filter((s) => s.status !== 'CANCELLED').length;
      if (live + fresh.length > MAX_SLOTS_PER_FORM) throw new FormSlotLimitError(live + fresh.length);
      return insertFormSlots(tx, form, fresh);
    });
    await this.slotEvents.publish(created.map((s) => formSlotChange(s, 'GENERATED')));
    return created;
  }

  /** Cancels a form slot nobody holds or booked; a booked slot is refused (see FormSlotBookedError). */
  async cancelSlot(slotId: string): Promise<Slot> {
    const slot = await this.prisma.slot.findUnique({ where: { id: slotId } });
    if (!slot?.formId) throw new NotFoundError('Slot', slotId);
    if (slot.status === 'CANCELLED') return slot;
    // Conditional on the counts, so a booking that lands meanwhile makes this refuse instead of orphaning it.
    const updated = await cancelFreeSlot(this.prisma, slotId);
    if (!updated[0]) {
      const current = await this.prisma.slot.findUniqueOrThrow({ where: { id: slotId } });
      throw new FormSlotBookedError(slotId, current.booked + current.held);
    }
    await this.slotEvents.publish([formSlotChange(updated[0], 'CANCELLED')]);
    return updated[0];
  }

  /** Public: published and closed forms; drafts only for staff. */
  async bySlug(slugValue: string, actor: Actor | null): Promise<Form | null> {
    if (!isSlug(slugValue)) return null;
    const form = await this.prisma.form.findUnique({ where: { slug: slugValue } });
    if (!form || (form.status !== 'PUBLISHED' && !hasAnyRole(actor, STAFF_ROLES))) return null;
    return form;
  }

  async get(id: string): Promise<Form> {
    const form = await this.prisma.form.findUnique({ where: { id } });
    if (!form) throw new NotFoundError('Form', id);
    return form;
  }

  /**
   * The form behind a public signup page: published, or closed (a POST from a page loaded before it
   * closed is told so). Drafts are staff's (GraphQL).
   */
  pageFormBySlug(slugValue: string): Promise<Form | null> {
    return this.prisma.form.findFirst({ where: { slug: slugValue, status: { in: ['PUBLISHED', 'CLOSED'] } } });
  }

  /** The form and its slots still to come, in time order (the signup page). */
  async withUpcomingSlots(formId: string): Promise<{ form: Form; slots: Slot[] }> {
    const form = await this.prisma.form.findUniqueOrThrow({ where: { id: formId } });
    const slots = await this.prisma.slot.findMany({
      where: { formId, startAt: { gt: this.now() } },
      orderBy: [{ startAt: 'asc' }, { endAt: 'asc' }],
    });
    return { form, slots };
  }

  /** The times a registration booked, in start order (the signup page's confirmation). */
  async registrationTimes(registrationId: string): Promise<{ startAt: Date; endAt: Date }[]> {
    const booked = await this.prisma.registrationSlot.findMany({
      where: { registrationId },
      select: { slot: { select: { startAt: true, endAt: true } } },
      orderBy: { slot: { startAt: 'asc' } },
    });
    return booked.map((b) => b.slot);
  }

  private async assertSlugFree(value: string) {
    if (await this.prisma.form.findUnique({ where: { slug: value }, select: { id: true } })) throw duplicateSlug();
  }
}

function duplicateSlug() {
  return ValidationError.field(['input', 'slug'], 'is already used by another form');
}

/** Two creates racing for one slug: the unique index decides, and the loser gets the same field error. */
function rethrowDuplicateSlug(err: unknown): never {
  const e = err as { code?: string; meta?: unknown; message?: string };
  if (e?.code === 'P2002' && /slug/.test(JSON.stringify(e.meta ?? '') + (e.message ?? ''))) throw duplicateSlug();
  throw err;
}

import { z } from 'zod';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { SqlRunner } from '../db/database.js';
import type { Form, Registration } from '../generated/prisma/client.js';
import type { SlotEvents } from '../events/slot-events.js';
import { noBookingMetrics, type BookingMetrics } from '../booking/booking-metrics.js';
import { DuplicateBookingError, duplicateBookingField, SlotsUnavailableError } from '../booking/errors.js';
import type { BookingMailer } from '../calendar/booking-mail.js';
import { registrationMails } from '../calendar/registration-mail.js';
import { recordEvents } from '../events/domain-events.js';
import { bookSlotsInTransaction } from '../booking/multi-slot.js';
import { bookingTransaction } from '../booking/booking.service.js';
import { customerSchema } from '../booking/customer.js';
import { actorLabel, hasAnyRole, STAFF_ROLES, type Actor } from '../shared/actor.js';
import { NotFoundError, parseInput } from '../shared/errors.js';
import { pii } from '../shared/pii.js';
import { FormNotOpenError, FormSlotNotFoundError, MAX_SLOTS_PER_FORM } from './forms.errors.js';
import { isSlug } from './forms.service.js';
import { insertRegistration } from './forms.store.js';

const answer = z.object({
  question: z.string().trim().min(1, 'must not be empty').max(200),
  answer: z.string().max(5000, 'must be at most 5000 characters'),
});

export const registerInput = customerSchema.extend({
  answers: z
    .array(answer)
    .max(50, 'at most 50 answers')
    .nullish()
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list?.forEach((a, i) => {
        if (seen.has(a.question)) ctx.addIssue({ code: 'custom', path: [i, 'question'], message: 'is answered twice' });
        seen.add(a.question);
      });
    }),
  slotIds: z
    .array(z.string())
    .min(1, 'choose at least one slot')
    .max(MAX_SLOTS_PER_FORM)
    .refine((ids) => new Set(ids).size === ids.length, 'must not name a slot twice'),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type RegisterInput = z.input<typeof registerInput>;

export interface RegisterCaller {
  actor: Actor | null;
  requestId?: string;
}

/** Where a registration goes: a form by slug or by id. */
export type FormKey = { slug: string } | { id: string };

/**
 * Registers one person for one or more slots of a form, all or nothing: the bookings (through the
 * booking engine), the registration and its slot rows commit together, so a later confirmation
 * mail finds everything it needs (registration, slots, bookings, the form's zone).
 */
export class RegistrationService {
  now: () => Date = () => new Date();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly sql: SqlRunner,
    private readonly slotEvents: SlotEvents,
    private readonly mail: BookingMailer,
    private readonly metrics: BookingMetrics = noBookingMetrics,
  ) {}

  async register(key: FormKey, input: RegisterInput, caller: RegisterCaller): Promise<{ registration: Registration; form: Form }> {
    const form =
      'slug' in key && !isSlug(key.slug) ? null : await this.prisma.form.findUnique({ where: 'slug' in key ? { slug: key.slug } : { id: key.id } });
    // A draft is staff's: to anyone else it answers exactly what an unknown form does.
    if (!form || (form.status === 'DRAFT' && !hasAnyRole(caller.actor, STAFF_ROLES)))
      throw new NotFoundError('Form', 'slug' in key ? key.slug : key.id);
    if (form.status !== 'PUBLISHED') throw new FormNotOpenError(form.id, form.status);
    const data = parseInput(registerInput, input);
    // Ids that are not even UUIDs (a tampered page) are simply not this form's.
    const candidates = data.slotIds.filter((id) => UUID.test(id));
    const ours = await this.prisma.slot.findMany({ where: { id: { in: candidates }, formId: form.id }, select: { id: true } });
    const foreign = data.slotIds.filter((id) => !ours.some((s) => s.id === id));
    if (foreign.length) throw new FormSlotNotFoundError(foreign);

    const p = pii();
    const { registration, changes } = await bookingTransaction(this.sql, async (sql) => {
      const now = this.now();
      const { bookings, changes } = await bookSlotsInTransaction(sql, {
        slotIds: data.slotIds,
        customer: { name: data.name, email: data.email, phone: data.phone },
        userId: caller.actor?.userId ?? null,
        actorId: caller.actor?.userId ?? null,
        actorLabel: actorLabel(caller.actor),
        requestId: caller.requestId,
        status: 'CONFIRMED',
        entry: 'register',
        customerPath: ['input'],
        now,
        // One mail lists every slot (below), instead of one invitation per booking.
        mail: null,
      });
      const registration = await insertRegistration(
        sql,
        {
          formId: form.id,
          name: p.encrypt(data.name),
          email: p.encrypt(data.email),
          emailHash: p.emailHash(data.email),
          phone: data.phone ? p.encrypt(data.phone) : null,
          phoneHash: data.phone ? p.phoneHash(data.phone) : null,
          // One JSON object (question -> answer), sealed: free text is personal data.
          answers: p.seal(Object.fromEntries((data.answers ?? []).map((a) => [a.question, a.answer]))),
        },
        bookings.map((b) => ({ slotId: b.slotId!, bookingId: b.id })),
      );
      const mails = await registrationMails(
        sql,
        { registrationId: registration.id, formId: form.id, registrant: { name: data.name, email: data.email }, bookings },
        this.mail.settings,
        now,
      );
      await this.mail.outbox.enqueue(sql, mails);
      await recordEvents(sql, [
        {
          type: 'registration.created',
          aggregateType: 'registration',
          aggregateId: registration.id,
          occurredAt: now,
          payload: {
            registrationId: registration.id,
            formId: form.id,
            bookingIds: bookings.map((b) => b.id),
            slotIds: bookings.map((b) => b.slotId),
          },
        },
      ]);
      return { registration, changes };
    }).catch((error: unknown) => {
      if (error instanceof SlotsUnavailableError && error.unavailable.some((u) => u.reason === 'FULL')) this.metrics.recordBooking('full');
      const duplicate = duplicateBookingField(error);
      throw duplicate ? new DuplicateBookingError(data.slotIds, ['input', duplicate]) : error;
    });
    await this.slotEvents.publish(changes);
    this.metrics.recordBooking('confirmed', data.slotIds.length);
    return { registration, form };
  }
}

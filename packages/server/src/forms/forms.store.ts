import type { SqlQuery } from '../db/database.js';
import type { Form, Prisma, Registration, Slot } from '../generated/prisma/client.js';
import type { Sealed } from '../shared/pii.js';

/** The forms domain's SQL and Prisma writes: forms, their slots, registrations and the analytics counts. */

type Tx = Prisma.TransactionClient;

type PlannedFormSlot = { startAt: Date; endAt: Date; capacity: number };

export function insertForm(tx: Tx, data: Prisma.FormUncheckedCreateInput): Promise<Form> {
  return tx.form.create({ data });
}

export function setFormStatus(tx: Tx, id: string, data: Pick<Prisma.FormUncheckedUpdateInput, 'status' | 'publishedAt' | 'closedAt'>): Promise<Form> {
  return tx.form.update({ where: { id }, data });
}

/** Serializes slot additions to one form, so two cannot both pass the slot limit. */
export async function lockForm(tx: Tx, id: string): Promise<void> {
  await tx.$queryRaw`SELECT id FROM forms WHERE id = ${id}::uuid FOR UPDATE`;
}

export function insertFormSlot(tx: Tx, form: Pick<Form, 'id' | 'locationId' | 'timeZone'>, slot: PlannedFormSlot): Promise<Slot> {
  return tx.slot.create({ data: { ...slot, formId: form.id, locationId: form.locationId, timeZone: form.timeZone } });
}

export function insertFormSlots(tx: Tx, form: Pick<Form, 'id' | 'locationId' | 'timeZone'>, slots: PlannedFormSlot[]): Promise<Slot[]> {
  return tx.slot.createManyAndReturn({ data: slots.map((s) => ({ ...s, formId: form.id, locationId: form.locationId, timeZone: form.timeZone })) });
}

/** Cancels the slot only while nobody holds or booked it; empty when it had bookings or holds. */
export function cancelFreeSlot(tx: Tx, id: string): Promise<Slot[]> {
  return tx.slot.updateManyAndReturn({ where: { id, booked: 0, held: 0 }, data: { status: 'CANCELLED' } });
}

export interface NewRegistration {
  formId: string;
  name: string;
  email: string;
  emailHash: string;
  phone: string | null;
  phoneHash: string | null;
  answers: Sealed;
}

/** A registration and the links to the bookings of its slots, in one statement of the booking transaction. */
export async function insertRegistration(tx: SqlQuery, data: NewRegistration, slots: { slotId: string; bookingId: string }[]): Promise<Registration> {
  const [row] = await tx.query<Registration>(
    `WITH registration AS (
      INSERT INTO registrations (form_id, name, email, email_hash, phone, phone_hash, answers)
      VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::text, $6::text, $7::jsonb)
      RETURNING id, form_id AS "formId", name, email, email_hash AS "emailHash", phone, phone_hash AS "phoneHash", answers,
        created_at AS "createdAt"),
    links AS (
      INSERT INTO registration_slots (registration_id, slot_id, booking_id)
      SELECT registration.id, x.slot_id, x.booking_id FROM registration, jsonb_to_recordset($8::jsonb) AS x(slot_id uuid, booking_id uuid))
    SELECT * FROM registration`,
    [
      data.formId,
      data.name,
      data.email,
      data.emailHash,
      data.phone,
      data.phoneHash,
      JSON.stringify(data.answers),
      JSON.stringify(slots.map((s) => ({ slot_id: s.slotId, booking_id: s.bookingId }))),
    ],
  );
  return row!;
}

export interface FormDayRow {
  date: string;
  total: number;
  booked_slots: number;
  full_slots: number;
  capacity: number;
  seats: number;
  cancelled: number;
}

/** Slot counts of a form per local date in `timeZone` (cancelled slots counted apart). */
export function formSlotCountsByDay(tx: Tx, formId: string, timeZone: string): Promise<FormDayRow[]> {
  return tx.$queryRaw<FormDayRow[]>`
    SELECT to_char(start_at AT TIME ZONE ${timeZone}, 'YYYY-MM-DD') AS date,
           count(*) FILTER (WHERE status <> 'CANCELLED')::int AS total,
           count(*) FILTER (WHERE status <> 'CANCELLED' AND booked > 0)::int AS booked_slots,
           count(*) FILTER (WHERE status <> 'CANCELLED' AND booked >= capacity)::int AS full_slots,
           coalesce(sum(capacity) FILTER (WHERE status <> 'CANCELLED'), 0)::int AS capacity,
           coalesce(sum(booked) FILTER (WHERE status <> 'CANCELLED'), 0)::int AS seats,
           count(*) FILTER (WHERE status = 'CANCELLED')::int AS cancelled
      FROM slots WHERE form_id = ${formId}::uuid
     GROUP BY 1 ORDER BY 1`;
}

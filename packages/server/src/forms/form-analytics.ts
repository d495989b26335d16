import type { PrismaClient } from '../generated/prisma/client.js';
import { NotFoundError } from '../shared/errors.js';
import { formSlotCountsByDay, type FormDayRow } from './forms.store.js';

export interface SlotTotals {
  totalSlots: number;
  bookedSlots: number;
  fullSlots: number;
  capacity: number;
  seatsBooked: number;
  /** seatsBooked / capacity, 0..1 (0 when there is no capacity). */
  fillRate: number;
}

export interface FormAnalytics extends SlotTotals {
  formId: string;
  timeZone: string;
  cancelledSlots: number;
  registrations: number;
  /** One entry per local date (in the form's zone) that has slots, in date order. */
  days: (SlotTotals & { date: string })[];
}

type DayRow = FormDayRow;

/** Counts over the form's live (not cancelled) slots, grouped by local date in the form's zone: two SQL statements. */
export async function formAnalytics(prisma: PrismaClient, formId: string): Promise<FormAnalytics> {
  const form = await prisma.form.findUnique({ where: { id: formId }, select: { id: true, timeZone: true, _count: { select: { registrations: true } } } });
  if (!form) throw new NotFoundError('Form', formId);
  const rows = await formSlotCountsByDay(prisma, form.id, form.timeZone);
  const days = rows.filter((r) => r.total > 0).map((r) => ({ date: r.date, ...totals([r]) }));
  return {
    formId: form.id,
    timeZone: form.timeZone,
    ...totals(rows),
    cancelledSlots: rows.reduce((n, r) => n + r.cancelled, 0),
    registrations: form._count.registrations,
    days,
  };
}

function totals(rows: DayRow[]): SlotTotals {
  const sum = (key: keyof DayRow) => rows.reduce((n, r) => n + Number(r[key]), 0);
  const capacity = sum('capacity');
  const seatsBooked = sum('seats');
  return {
    totalSlots: sum('total'),
    bookedSlots: sum('booked_slots'),
    fullSlots: sum('full_slots'),
    capacity,
    seatsBooked,
    fillRate: capacity === 0 ? 0 : seatsBooked / capacity,
  };
}

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
  /** The zone the days are local dates of: the viewer's when asked, else the form's. */
  timeZone: string;
  cancelledSlots: number;
  registrations: number;
  /** One entry per local date (in `timeZone`) that has slots, in date order. */
  days: (SlotTotals & { date: string })[];
}

type DayRow = FormDayRow;

/**
 * Counts over the form's live (not cancelled) slots, grouped by local date in the viewer's zone
 * (the form's when none is given): two SQL statements.
 */
export async function formAnalytics(prisma: PrismaClient, formId: string, viewerZone: string | null = null): Promise<FormAnalytics> {
  const form = await prisma.form.findUnique({
    where: { id: formId },
    select: { id: true, timeZone: true, _count: { select: { registrations: true } } },
  });
  if (!form) throw new NotFoundError('Form', formId);
  const timeZone = viewerZone ?? form.timeZone;
  const rows = await formSlotCountsByDay(prisma, form.id, timeZone);
  const days = rows.filter((r) => r.total > 0).map((r) => ({ date: r.date, ...totals([r]) }));
  return {
    formId: form.id,
    timeZone,
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

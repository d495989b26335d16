import type { PrismaClient } from '../generated/prisma/client.js';
import { NotFoundError } from '../shared/errors.js';

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

interface DayRow {
  date: string;
  total: number;
  booked_slots: number;
  full_slots: number;
  capacity: number;
  seats: number;
  cancelled: number;
}

/**
 * Counts over the form's live (not cancelled) slots, grouped by local date in the viewer's zone
 * (the form's when none is given): two SQL statements.
 */
export async function formAnalytics(prisma: PrismaClient, formId: string, viewerZone: string | null = null): Promise<FormAnalytics> {
  const form = await prisma.form.findUnique({ where: { id: formId }, select: { id: true, timeZone: true, _count: { select: { registrations: true } } } });
  if (!form) throw new NotFoundError('Form', formId);
  const timeZone = viewerZone ?? form.timeZone;
  const rows = await prisma.$queryRaw<DayRow[]>`
    SELECT to_char(start_at AT TIME ZONE ${timeZone}, 'YYYY-MM-DD') AS date,
           count(*) FILTER (WHERE status <> 'CANCELLED')::int AS total,
           count(*) FILTER (WHERE status <> 'CANCELLED' AND booked > 0)::int AS booked_slots,
           count(*) FILTER (WHERE status <> 'CANCELLED' AND booked >= capacity)::int AS full_slots,
           coalesce(sum(capacity) FILTER (WHERE status <> 'CANCELLED'), 0)::int AS capacity,
           coalesce(sum(booked) FILTER (WHERE status <> 'CANCELLED'), 0)::int AS seats,
           count(*) FILTER (WHERE status = 'CANCELLED')::int AS cancelled
      FROM slots WHERE form_id = ${form.id}::uuid
     GROUP BY 1 ORDER BY 1`;
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

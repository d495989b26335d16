import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { pii } from '../shared/pii.js';
import { isValidTimeZone } from '../shared/time.js';

export const customerSchema = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  email: z.email('must be an email address').max(254),
  phone: z
    .string()
    .trim()
    .regex(/^\+?[0-9][0-9 ()./-]{4,28}[0-9]$/, 'must be a phone number, e.g. +44 20 7946 0958')
    .nullish(),
  /** The zone the customer reads times in (their mails); the location's when left out. */
  timeZone: z.string().refine(isValidTimeZone, 'must be an IANA time zone, e.g. Europe/Lisbon').nullish(),
});

export type Customer = z.infer<typeof customerSchema>;

/** The booking columns that carry the customer: name and contact data encrypted, lookup hashes beside them. */
export function customerColumns(customer: Customer) {
  const p = pii();
  return {
    customerName: p.encrypt(customer.name),
    customerEmail: p.encrypt(customer.email),
    customerEmailHash: p.emailHash(customer.email),
    customerPhone: customer.phone ? p.encrypt(customer.phone) : null,
    customerPhoneHash: customer.phone ? p.phoneHash(customer.phone) : null,
    customerTimeZone: customer.timeZone ?? null,
  };
}

/** Who booked, as read back: with the booking's notes (written as booking details). */
export type CustomerView = Customer & { notes: string | null };

/** Name and note may still be plaintext in rows written before they were encrypted (migration 0006). */
export function decryptCustomer(b: { customerName: string; customerEmail: string; customerPhone: string | null; notes: string | null }): CustomerView {
  const p = pii();
  return {
    name: p.readText(b.customerName),
    email: p.decrypt(b.customerEmail),
    phone: b.customerPhone ? p.decrypt(b.customerPhone) : null,
    notes: p.readNullable(b.notes),
  };
}

/** The per-booking secret a customer manages the booking with; only its hash is stored. */
export function newManageToken(): { token: string; hash: string } {
  const token = `bk_${randomBytes(24).toString('base64url')}`;
  return { token, hash: hashManageToken(token) };
}

export function hashManageToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** UID of the calendar event a booking becomes; stable across reschedules (SEQUENCE changes). */
export function newIcsUid(): string {
  return `${randomUUID()}@slotwise`;
}

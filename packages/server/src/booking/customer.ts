import { createHash, randomUUID } from 'node:crypto';
import { randomBytes } from '../shared/random.js';
import type { z } from 'zod';
import { pii } from '../shared/pii.js';
import { customerSchema as customerFields } from '../shared/validation.js';

/** A customer as a booking takes one (their note on the booking is the booking's `notes` detail). */
export const customerSchema = customerFields;

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

/** Who booked, as read back. */
export type CustomerView = Pick<Customer, 'name' | 'email' | 'phone'>;

/** The name may still be plaintext in rows written before it was encrypted (migration 0006). */
export function decryptCustomer(b: { customerName: string; customerEmail: string; customerPhone: string | null }): CustomerView {
  const p = pii();
  return {
    name: p.readText(b.customerName),
    email: p.decrypt(b.customerEmail),
    phone: b.customerPhone ? p.decrypt(b.customerPhone) : null,
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

import type { InputFieldBuilder, SchemaTypes } from '@pothos/core';
import { builder } from '../builder.js';
import { ErrorInterface } from '../shared/shared.graphql.js';
import { BookingPolicyError } from './enforce.js';
import { POLICY_FIELDS, type POLICY_REASONS, type PolicyField } from './policy.js';

export const BookingPolicyEnum = builder.enumType('BookingPolicy', {
  description: 'A booking policy that refused a time.',
  values: {
    MIN_NOTICE: { description: 'Starts sooner than minNoticeMinutes from now.' },
    HORIZON: { description: 'Starts more than horizonDays (local calendar days) from now.' },
    BUFFER: { description: "Inside another booking's buffer, or another booking is inside this one's." },
    DAILY_LIMIT: { description: 'The resource has maxBookingsPerDay live bookings on that local date.' },
    CUSTOMER_DAILY_LIMIT: { description: 'The customer has maxBookingsPerCustomerPerDay live bookings on that resource and local date.' },
    CUSTOMER_WEEKLY_LIMIT: { description: 'The customer has maxBookingsPerCustomerPerWeek live bookings on that resource in that ISO week.' },
  } satisfies Record<(typeof POLICY_REASONS)[number], unknown>,
});

builder.objectType(BookingPolicyError, {
  name: 'BookingPolicyError',
  description: 'A booking policy of the resource (or its location) does not allow this time; nothing was written. Staff may book with `override`.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof BookingPolicyError,
  fields: (t) => ({
    policy: t.field({ type: BookingPolicyEnum, resolve: (e) => e.policy }),
    policyField: t.exposeString('field', { description: 'The policy field that refused it, e.g. minNoticeMinutes.' }),
    slotId: t.globalID({ nullable: true, resolve: (e) => (e.slotId ? { type: 'Slot', id: e.slotId } : null) }),
    startAt: t.expose('startAt', { type: 'DateTime' }),
  }),
});

export const PolicyOverrideInput = builder.inputType('PolicyOverrideInput', {
  description: 'Staff only: book although a booking policy refuses the time. Written to the audit log with the reason.',
  fields: (t) => ({ reason: t.string({ required: true }) }),
});

const DESCRIPTIONS: Record<PolicyField, string> = {
  bufferBeforeMinutes: 'Minutes before each booking kept free of other bookings (0-1440).',
  bufferAfterMinutes: 'Minutes after each booking kept free of other bookings (0-1440).',
  minNoticeMinutes: 'No booking starting sooner than this many minutes from now (0-525600).',
  horizonDays: 'No booking starting more than this many local calendar days ahead (1-3650).',
  maxBookingsPerDay: 'Live bookings per local date on one resource (1-100000).',
  maxBookingsPerCustomerPerDay: 'Live bookings per customer (email or phone) per local date on one resource (1-1000).',
  maxBookingsPerCustomerPerWeek: 'Live bookings per customer (email or phone) per ISO week on one resource (1-1000).',
};

/** The policy fields of Resource and Location, each made by `expose` (the caller's field builder; `of`: what null means there). */
export function policyOutputFields<Field>(expose: (name: PolicyField, description: string) => Field, of: string): Record<PolicyField, Field> {
  return Object.fromEntries(POLICY_FIELDS.map((name) => [name, expose(name, `${DESCRIPTIONS[name]} ${of}`)])) as Record<PolicyField, Field>;
}

/** The same fields in create and update inputs: left out keeps the value, null clears it. */
export function policyInputFields<Types extends SchemaTypes>(t: InputFieldBuilder<Types, 'InputObject'>) {
  return Object.fromEntries(POLICY_FIELDS.map((name) => [name, t.int({ description: `${DESCRIPTIONS[name]} null clears it.` })])) as Record<
    PolicyField,
    ReturnType<typeof t.int>
  >;
}

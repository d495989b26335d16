import { createHash } from 'node:crypto';
import { randomBytes } from '../shared/random.js';
import { z } from 'zod';
import { customerHoldsSlot } from '../booking/booking.store.js';
import { customerSchema } from '../booking/customer.js';
import type { MailSettings } from '../calendar/mail-settings.js';
import type { SqlRunner } from '../db/database.js';
import { recordEvents } from '../events/domain-events.js';
import type { Outbox } from '../mail/outbox.js';
import { AppError, NotFoundError, ValidationError, parseInput } from '../shared/errors.js';
import { pii } from '../shared/pii.js';
import { instantWindowIssue } from '../shared/validation.js';
import { waitlistEvent } from './offers.js';
import {
  findByLeaveToken,
  insertEntry,
  isActiveResource,
  leave,
  listEntries,
  placeInLine,
  slotForWaitlist,
  type WaitlistRow,
  type WaitlistStatus,
} from './waitlist.store.js';

/** The slot has places: book it instead of waiting. */
export class SlotNotFullError extends AppError {
  readonly code = 'SLOT_NOT_FULL';
  constructor(
    readonly slotId: string,
    readonly remaining: number,
  ) {
    super(`slot ${slotId} has ${remaining} place(s) free: book it instead of waiting`);
  }
}

const joinInput = z
  .object({
    slotId: z.string().nullish(),
    resourceId: z.string().nullish(),
    from: z.date().nullish(),
    to: z.date().nullish(),
    customer: customerSchema,
  })
  .superRefine((v, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (v.slotId && (v.resourceId || v.from || v.to)) issue('slotId', 'give either slotId, or resourceId with from and to');
    if (!v.slotId && !v.resourceId) issue('slotId', 'give either slotId, or resourceId with from and to');
    if (v.resourceId && !v.from) issue('from', 'is required with resourceId');
    if (v.resourceId && !v.to) issue('to', 'is required with resourceId');
    const window = v.from && v.to ? instantWindowIssue(v.from, v.to, 'waitlist') : null;
    if (window) issue('to', window);
  });

export type JoinWaitlistInput = z.input<typeof joinInput>;

export interface JoinedWaitlist {
  entry: WaitlistRow;
  /** Shown once: the customer's proof to leave the list (also in the mail's link). */
  leaveToken: string;
  /** How many wait before this customer. */
  ahead: number;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export class WaitlistService {
  now: () => Date = () => new Date();

  constructor(
    private readonly sql: SqlRunner,
    private readonly outbox: Pick<Outbox, 'enqueue'>,
    private readonly settings: MailSettings,
  ) {}

  /** Joins the line for a full slot, or for any slot of a resource inside a window. */
  async join(input: JoinWaitlistInput): Promise<JoinedWaitlist> {
    const v = parseInput(joinInput, input);
    const now = this.now();
    if (v.slotId) {
      const slot = await slotForWaitlist(this.sql, v.slotId);
      if (!slot) throw new NotFoundError('Slot', v.slotId);
      if (slot.form_id) throw ValidationError.field(['input', 'slotId'], 'is a signup form slot: sign up with register');
      if (slot.start_at <= now || slot.status === 'CANCELLED' || slot.status === 'BLOCKED')
        throw ValidationError.field(['input', 'slotId'], 'cannot be booked any more');
      if (slot.free > 0) throw new SlotNotFullError(v.slotId, slot.free);
      // Someone who holds a place of the slot waits for nothing: the offer could only be refused.
      const holds = await customerHoldsSlot(this.sql, v.slotId, null, {
        emailHash: pii().emailHash(v.customer.email),
        phoneHash: v.customer.phone ? pii().phoneHash(v.customer.phone) : null,
      });
      if (holds) throw ValidationError.field(['input', 'customer', holds], 'already has a place in this slot');
    } else {
      if (!(await isActiveResource(this.sql, v.resourceId!))) throw new NotFoundError('Resource', v.resourceId!);
      if (v.to! <= now) throw ValidationError.field(['input', 'to'], 'is in the past');
    }
    const leaveToken = `wl_${randomBytes(24).toString('base64url')}`;
    const p = pii();
    const c = v.customer;
    return this.sql.transaction(async (tx) => {
      const entry = await insertEntry(tx, {
        slotId: v.slotId ?? null,
        resourceId: v.slotId ? null : v.resourceId!,
        windowStart: v.slotId ? null : v.from!,
        windowEnd: v.slotId ? null : v.to!,
        customerName: p.encrypt(c.name),
        customerEmail: p.encrypt(c.email),
        customerEmailHash: p.emailHash(c.email),
        customerPhone: c.phone ? p.encrypt(c.phone) : null,
        customerPhoneHash: c.phone ? p.phoneHash(c.phone) : null,
        customerTimeZone: c.timeZone ?? null,
        leaveTokenHash: hashToken(leaveToken),
      });
      if (!entry) throw ValidationError.field(['input', 'customer', 'email'], 'is already waiting for this slot');
      const leaveUrl = `${this.settings.publicUrl}/waitlist/leave?t=${encodeURIComponent(leaveToken)}`;
      await this.outbox.enqueue(tx, [
        {
          kind: 'waitlist-joined',
          to: c.email,
          dedupeKey: `waitlist-joined:${entry.id}`,
          content: {
            subject: 'You are on the waitlist',
            text: [
              `Hello ${c.name},`,
              '',
              'You are on the waitlist. When a place frees, we hold it for you and mail you a link to confirm it.',
              'To leave the waitlist:',
              leaveUrl,
            ].join('\n'),
          },
        },
      ]);
      await recordEvents(tx, [waitlistEvent('waitlist.joined', entry, now)]);
      return { entry, leaveToken, ahead: await placeInLine(tx, entry) };
    });
  }

  /** Leaves the line with the token from the join answer or the mail; staff may remove anyone. */
  async leave(by: { leaveToken: string } | { entryId: string }): Promise<WaitlistRow> {
    const now = this.now();
    return this.sql.transaction(async (tx) => {
      const where = 'leaveToken' in by ? { leaveTokenHash: hashToken(by.leaveToken) } : { id: by.entryId };
      const entry = await leave(tx, where);
      if (!entry) {
        const existing = 'leaveToken' in by ? await findByLeaveToken(tx, hashToken(by.leaveToken)) : null;
        if (existing) return existing;
        throw new NotFoundError('WaitlistEntry', 'entryId' in by ? by.entryId : 'by token');
      }
      await recordEvents(tx, [waitlistEvent('waitlist.left', entry, now)]);
      return entry;
    });
  }

  /** The entry a leave token is for (the leave page shows it before the button). */
  byLeaveToken(leaveToken: string): Promise<WaitlistRow | null> {
    return findByLeaveToken(this.sql, hashToken(leaveToken));
  }

  list(scope: { slotId?: string; resourceId?: string }, statuses: WaitlistStatus[] = ['WAITING', 'OFFERED']): Promise<WaitlistRow[]> {
    return listEntries(this.sql, scope, statuses);
  }

  placeInLine(entry: WaitlistRow): Promise<number> {
    return placeInLine(this.sql, entry);
  }
}

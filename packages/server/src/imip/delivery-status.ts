import { z } from 'zod';
import type { SqlQuery, SqlRunner } from '../db/database.js';
import type { ProposalMetrics } from '../proposals/proposal-metrics.js';
import { parseInput } from '../shared/errors.js';
import { pii } from '../shared/pii.js';
import { findOutboxMail, insertDeliveryEvent, markAttendee, selectRecipients } from './imip.store.js';

export const deliveryStatusSchema = z.object({
  messageId: z.string().trim().min(3).max(300),
  status: z.enum(['delivered', 'bounced', 'complained']),
  /** Bounces are hard (the address does not take mail) unless the provider says soft. */
  bounceType: z.enum(['hard', 'soft']).nullish(),
  detail: z.string().max(1000).nullish(),
});
export type DeliveryStatus = z.infer<typeof deliveryStatusSchema>;

/**
 * Delivery reports for outbox mails (seed 004 slice 8): every report is kept; a hard bounce or a
 * complaint marks that party on the booking, so staff see that mail to them does not arrive.
 */
export class DeliveryStatusService {
  constructor(
    private readonly sql: SqlRunner,
    private readonly metrics: ProposalMetrics,
  ) {}

  async record(input: unknown, now = new Date()): Promise<'recorded' | 'unknown-message'> {
    const report = parseInput(deliveryStatusSchema, input, []);
    const messageId = report.messageId.startsWith('<') ? report.messageId : `<${report.messageId}>`;
    const bounceType = report.status === 'bounced' ? (report.bounceType ?? 'hard') : null;
    const result = await this.sql.transaction(async (tx) => {
      const mail = await findOutboxMail(tx, messageId);
      if (!mail) return 'unknown-message' as const;
      await insertDeliveryEvent(tx, { outboxMessageId: mail.id, status: report.status, bounceType, detail: report.detail ?? null, receivedAt: now });
      const marks = bounceType === 'hard' || report.status === 'complained';
      const role = marks && mail.booking_id ? await this.partyOf(tx, mail.booking_id, mail.recipient_hash) : null;
      if (role) {
        await markAttendee(tx, {
          bookingId: mail.booking_id!,
          role,
          mark: report.status === 'complained' ? 'complained' : 'bounced',
          detail: report.detail ?? null,
          at: now,
        });
      }
      return 'recorded' as const;
    });
    if (result === 'recorded') this.metrics.recordMailStatus(report.status, bounceType);
    return result;
  }

  /** Which party a mail went to: the customer by their lookup hash, the host by the resource's address. */
  private async partyOf(tx: SqlQuery, bookingId: string, recipientHash: string): Promise<'host' | 'guest' | null> {
    const row = await selectRecipients(tx, bookingId);
    if (!row) return null;
    if (row.customer_email_hash === recipientHash) return 'guest';
    return row.email && pii().emailHash(row.email) === recipientHash ? 'host' : null;
  }
}

import { z } from 'zod';
import type { SqlRunner } from '../db/database.js';
import type { ProposalMetrics } from '../proposals/proposal-metrics.js';
import { parseInput } from '../shared/errors.js';
import { pii } from '../shared/pii.js';

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
      const [mail] = await tx.query<{ id: string; booking_id: string | null; recipient_hash: string }>(
        `SELECT id, booking_id, recipient_hash FROM outbox_messages WHERE message_id = $1`,
        [messageId],
      );
      if (!mail) return 'unknown-message' as const;
      await tx.query(`INSERT INTO mail_delivery_events (outbox_message_id, status, bounce_type, detail, received_at) VALUES ($1::uuid, $2, $3, $4, $5::timestamptz)`, [
        mail.id,
        report.status,
        bounceType,
        report.detail ?? null,
        now.toISOString(),
      ]);
      const marks = bounceType === 'hard' || report.status === 'complained';
      const role = marks && mail.booking_id ? await this.partyOf(tx, mail.booking_id, mail.recipient_hash) : null;
      if (role) {
        const column = report.status === 'complained' ? 'complained_at' : 'bounced_at';
        await tx.query(
          `INSERT INTO booking_attendees (booking_id, role, ${column}, bounce_detail, updated_at)
           VALUES ($1::uuid, $2::magic_link_role, $3::timestamptz, $4, $3::timestamptz)
           ON CONFLICT (booking_id, role) DO UPDATE SET ${column} = EXCLUDED.${column},
             bounce_detail = coalesce(EXCLUDED.bounce_detail, booking_attendees.bounce_detail), updated_at = EXCLUDED.updated_at`,
          [mail.booking_id, role, now.toISOString(), report.detail ?? null],
        );
      }
      return 'recorded' as const;
    });
    if (result === 'recorded') this.metrics.recordMailStatus(report.status, bounceType);
    return result;
  }

  /** Which party a mail went to: the customer by their lookup hash, the host by the resource's address. */
  private async partyOf(tx: { query: SqlRunner['query'] }, bookingId: string, recipientHash: string): Promise<'host' | 'guest' | null> {
    const [row] = await tx.query<{ customer_email_hash: string; email: string | null }>(
      `SELECT b.customer_email_hash, r.email FROM bookings b LEFT JOIN resources r ON r.id = b.resource_id WHERE b.id = $1::uuid`,
      [bookingId],
    );
    if (!row) return null;
    if (row.customer_email_hash === recipientHash) return 'guest';
    return row.email && pii().emailHash(row.email) === recipientHash ? 'host' : null;
  }
}

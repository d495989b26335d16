import { Counter, type Registry } from 'prom-client';

export const PROPOSAL_EVENTS = ['created', 'approved', 'declined', 'failed', 'superseded', 'expired'] as const;
export type ProposalEvent = (typeof PROPOSAL_EVENTS)[number];
export type MailStatus = 'delivered' | 'bounced' | 'complained';

/** What proposals, calendar replies and delivery reports record. */
export interface ProposalMetrics {
  recordProposal(event: ProposalEvent): void;
  recordImip(method: string, outcome: string): void;
  recordMailStatus(status: MailStatus, bounceType?: 'hard' | 'soft' | null): void;
}

export const noProposalMetrics: ProposalMetrics = { recordProposal() {}, recordImip() {}, recordMailStatus() {} };

export function createProposalMetrics(registry: Registry): ProposalMetrics {
  const proposals = new Counter({
    name: 'slotwise_proposals_total',
    help: 'Reschedule proposals: created, approved, declined, failed, superseded, expired',
    labelNames: ['event'] as const,
    registers: [registry],
  });
  for (const event of PROPOSAL_EVENTS) proposals.inc({ event }, 0);
  const replies = new Counter({
    name: 'slotwise_imip_messages_total',
    help: 'Inbound mails parsed, by iCalendar METHOD (none when not a calendar mail) and outcome',
    labelNames: ['method', 'outcome'] as const,
    registers: [registry],
  });
  const status = new Counter({
    name: 'slotwise_mail_delivery_reports_total',
    help: 'Delivery reports for outbox mails: delivered, bounced (hard / soft), complained',
    labelNames: ['status', 'bounce_type'] as const,
    registers: [registry],
  });
  return {
    recordProposal: (event) => proposals.inc({ event }),
    recordImip: (method, outcome) => replies.inc({ method: method || 'none', outcome }),
    recordMailStatus: (s, bounceType) => status.inc({ status: s, bounce_type: bounceType ?? '' }),
  };
}

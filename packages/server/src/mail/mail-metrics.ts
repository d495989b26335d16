/** Outcomes of mail delivery attempts (src/mail/delivery.ts). */
export type MailOutcome = 'sent' | 'retried' | 'failed';

/** What mail delivery records; the app injects the Prometheus implementation (http/metrics.ts). */
export interface MailMetrics {
  /** One attempt's outcome; method is the ICS METHOD or 'none'. */
  recordMail(outcome: MailOutcome, labels: { kind: string; method: string }): void;
  /** Where the outbox depth gauge reads the PENDING count when scraped. */
  measureOutboxDepth(count: () => Promise<number>): void;
}

export const noMailMetrics: MailMetrics = { recordMail() {}, measureOutboxDepth() {} };

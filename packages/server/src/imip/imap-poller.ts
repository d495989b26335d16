import { ImapFlow } from 'imapflow';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { ImipService } from './imip.service.js';

/** Messages handled per poll at most: a backlog drains over several polls, each bounded in time. */
export const MAX_MESSAGES_PER_POLL = 100;

type ImapConfig = Pick<Config, 'IMAP_URL' | 'IMAP_FOLDER' | 'IMAP_PROCESSED_FOLDER'>;

/**
 * The optional IMAP poller: every message in IMAP_FOLDER goes through the same ingestor as
 * POST /inbound/mail, then moves to IMAP_PROCESSED_FOLDER. A message whose ingest failed (database
 * down) stays for the next poll. Safe on many instances: a message two of them fetch is stored once
 * (its Message-ID), the second sees `duplicate`, and only one move succeeds.
 */
export class ImapPoller {
  constructor(
    private readonly config: ImapConfig,
    private readonly imip: ImipService,
    private readonly log: Logger,
  ) {}

  async pollOnce(): Promise<{ handled: number; outcomes: string[] }> {
    const client = new ImapFlow({ ...imapOptions(this.config.IMAP_URL!), logger: false, disableAutoIdle: true, connectionTimeout: 10_000 });
    await client.connect();
    const outcomes: string[] = [];
    try {
      await client.mailboxCreate(this.config.IMAP_PROCESSED_FOLDER).catch(() => undefined);
      const lock = await client.getMailboxLock(this.config.IMAP_FOLDER);
      try {
        const uids = (await client.search({ all: true }, { uid: true })) || [];
        for (const uid of uids.slice(0, MAX_MESSAGES_PER_POLL)) {
          const message = await client.fetchOne(String(uid), { source: true }, { uid: true });
          // biome-ignore lint/complexity/useOptionalChain: fetchOne answers `false` for a missing message, which `?.` does not cover.
          if (!message || !message.source) continue;
          const { outcome } = await this.imip.ingest(message.source, 'imap');
          outcomes.push(outcome);
          await client.messageMove(String(uid), this.config.IMAP_PROCESSED_FOLDER, { uid: true });
        }
      } finally {
        lock.release();
      }
    } finally {
      await client.logout().catch(() => client.close());
    }
    if (outcomes.length) this.log.info({ handled: outcomes.length, outcomes }, 'imap poll');
    return { handled: outcomes.length, outcomes };
  }
}

/** imap://user:pass@host:143 (STARTTLS when offered) or imaps://user:pass@host:993 (TLS). */
export function imapOptions(url: string) {
  const u = new URL(url);
  const secure = u.protocol === 'imaps:';
  return {
    host: u.hostname,
    port: Number(u.port) || (secure ? 993 : 143),
    secure,
    auth: { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) },
  };
}

import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { ComposedMessage } from './mime.js';

/** Where delivered messages go: an SMTP server, `.eml` files, or nowhere (in-memory data). */
export interface MailTransport {
  readonly kind: 'smtp' | 'file' | 'discard';
  /** Resolves once the message is accepted (SMTP 250, file renamed into place); throws MailDeliveryError. */
  send(outboxId: string, message: ComposedMessage): Promise<void>;
  close(): void;
}

/**
 * A failed attempt. Permanent (SMTP 5xx, a malformed message): the row ends FAILED at once.
 * Transient (SMTP 4xx, connection errors, timeouts, a full disk): retried with backoff.
 */
export class MailDeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly responseCode?: number,
  ) {
    super(message);
  }
}

// Bounded so an attempt ends well inside the delivery lease (see delivery.ts).
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

export class SmtpTransport implements MailTransport {
  readonly kind = 'smtp';
  private readonly transporter;

  constructor(url: string) {
    // Pooled: a connection per message cost over 100 ms even on localhost; a kept one, a few ms.
    this.transporter = nodemailer.createTransport({ url, pool: true, maxConnections: 2, ...SMTP_TIMEOUTS });
  }

  async send(_outboxId: string, message: ComposedMessage): Promise<void> {
    try {
      await this.transporter.sendMail({ envelope: { from: message.envelope.from, to: [message.envelope.to] }, raw: message.raw });
    } catch (error) {
      throw smtpError(error);
    }
  }

  close(): void {
    this.transporter.close();
  }
}

/** Reads nodemailer's error: a 5xx reply is permanent, except 503 (bad sequence) and failed logins (our configuration). */
export function smtpError(error: unknown): MailDeliveryError {
  const e = error as { message?: string; responseCode?: number; code?: string };
  const code = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const permanent = code !== undefined && code >= 500 && code < 600 && code !== 503 && e.code !== 'EAUTH';
  return new MailDeliveryError(e.message ?? String(error), permanent, code);
}

/** The embedded default: each message as `<dir>/<outbox id>.eml`, written whole or not at all. */
export class FileTransport implements MailTransport {
  readonly kind = 'file';

  constructor(readonly dir: string) {}

  async send(outboxId: string, message: ComposedMessage): Promise<void> {
    const path = join(this.dir, `${outboxId}.eml`);
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFile(`${path}.tmp`, message.raw);
      await rename(`${path}.tmp`, path);
    } catch (error) {
      throw new MailDeliveryError(`cannot write ${path}: ${(error as Error).message}`, false);
    }
  }

  close(): void {}
}

/** DATA_DIR=memory:// keeps nothing on disk, mail included: messages count as sent and are dropped. */
export class DiscardTransport implements MailTransport {
  readonly kind = 'discard';
  async send(): Promise<void> {}
  close(): void {}
}

export function createMailTransport(config: { SMTP_URL?: string; DATA_DIR: string }): MailTransport {
  if (config.SMTP_URL) return new SmtpTransport(config.SMTP_URL);
  if (config.DATA_DIR.startsWith('memory://')) return new DiscardTransport();
  return new FileTransport(join(config.DATA_DIR, 'mail'));
}

import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * A real SMTP server for tests, in this process on 127.0.0.1 (a free port).
 *
 *   const smtp = await startMailServer();
 *   const app = await createTestApp({ config: { SMTP_URL: smtp.url } });
 *   ... queue mails, run the delivery worker (or a server) ...
 *   const [mail] = await smtp.waitForMessages(1);      // parsed with mailparser
 *   expect(mail.parsed.subject).toBe('Invitation: ...');
 *   smtp.failNext(2, 451);                              // the next 2 messages get "451 ..." after DATA
 *   await smtp.close();
 *
 * Only accepted messages (SMTP 250) are collected; refused ones are counted in `refused`.
 */
export interface ReceivedMail {
  /** The envelope: MAIL FROM and RCPT TO as the client sent them. */
  envelope: { from: string; to: string[] };
  /** The message bytes as received. */
  raw: string;
  parsed: ParsedMail;
}

export interface MailServer {
  /** `smtp://127.0.0.1:<port>`, for SMTP_URL. */
  url: string;
  /** Accepted messages so far, in arrival order. */
  readonly messages: ReceivedMail[];
  /** How many messages were answered with an injected failure. */
  readonly refused: number;
  /** Answers the next `count` messages with `code` (4xx transient, 5xx permanent) instead of 250. */
  failNext(count: number, code: number, text?: string): void;
  /** Resolves with the first `count` accepted messages once they have arrived; rejects after timeoutMs (default 5 s). */
  waitForMessages(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  /** Forgets the messages received so far (and pending failures). */
  reset(): void;
  close(): Promise<void>;
}

export async function startMailServer(): Promise<MailServer> {
  const messages: ReceivedMail[] = [];
  const failures: { code: number; text: string }[] = [];
  const waiters = new Set<() => void>();
  let refused = 0;

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    disableReverseLookup: true,
    // close() does not wait for clients' idle pooled connections.
    closeTimeout: 100,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const failure = failures.shift();
        if (failure) {
          refused++;
          return callback(Object.assign(new Error(failure.text), { responseCode: failure.code }));
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        const envelope = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
        };
        simpleParser(raw).then(
          (parsed) => {
            messages.push({ envelope, raw, parsed });
            callback();
            for (const wake of waiters) wake();
          },
          (error: Error) => callback(error),
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;

  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    get refused() {
      return refused;
    },
    failNext(count, code, text = code >= 500 ? 'Requested action not taken: mailbox unavailable' : 'Try again later') {
      for (let i = 0; i < count; i++) failures.push({ code, text });
    },
    waitForMessages(count, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (messages.length < count) return;
          cleanup();
          resolve(messages.slice(0, count));
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`expected ${count} messages within ${timeoutMs} ms, got ${messages.length}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    reset() {
      messages.length = 0;
      failures.length = 0;
      refused = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** One node of a message's MIME tree, as the headers say (types and parameters lower-cased). */
export interface MimePart {
  type: string;
  params: Record<string, string>;
  disposition?: string;
  filename?: string;
  children: MimePart[];
}

/** The MIME tree of a raw message: which parts nest where (mailparser flattens it). */
export function mimeTree(raw: string): MimePart {
  const split = raw.search(/\r?\n\r?\n/);
  const head = (split < 0 ? raw : raw.slice(0, split)).replace(/\r?\n[ \t]+/g, ' ');
  const body = split < 0 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const header = (name: string) => head.match(new RegExp(`^${name}:\\s*(.*)$`, 'im'))?.[1] ?? '';
  const [type = 'text/plain', ...rest] = header('Content-Type')
    .split(';')
    .map((s) => s.trim());
  const params = Object.fromEntries(
    rest.filter(Boolean).map((p) => {
      const [k, ...v] = p.split('=');
      return [k!.trim().toLowerCase(), v.join('=').trim().replace(/^"|"$/g, '')];
    }),
  );
  const [disposition, ...dispositionParams] = header('Content-Disposition')
    .split(';')
    .map((s) => s.trim());
  const filename = dispositionParams
    .find((p) => p.startsWith('filename='))
    ?.slice('filename='.length)
    .replace(/^"|"$/g, '');
  const children =
    type.toLowerCase().startsWith('multipart/') && params.boundary
      ? body
          .split(`--${params.boundary}`)
          .slice(1, -1)
          .map((part) => mimeTree(part.replace(/^\r?\n/, '')))
      : [];
  return { type: type.toLowerCase(), params, disposition: disposition || undefined, filename, children };
}

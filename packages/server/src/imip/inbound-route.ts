import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Slotwise } from '../app.js';
import type { RouteHandler } from '../server.js';
import { ValidationError } from '../shared/errors.js';

/** Larger than any calendar reply with its attachments; anything bigger is refused unread. */
export const MAX_INBOUND_BYTES = 10 * 1024 * 1024;

/**
 * POST /inbound/mail (one raw RFC 5322 message) and POST /inbound/mail-status (a delivery report),
 * for a mail provider's inbound webhook. Bearer INBOUND_MAIL_TOKEN; without it both are off (404).
 */
export function inboundMailRoutes(app: Slotwise): RouteHandler {
  const expected = app.config.INBOUND_MAIL_TOKEN ? digest(app.config.INBOUND_MAIL_TOKEN) : null;
  return async (req, res, url) => {
    if (url.pathname !== '/inbound/mail' && url.pathname !== '/inbound/mail-status') return false;
    if (!expected) return json(res, 404, { error: 'not found' });
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return json(res, 405, { error: 'method not allowed' });
    }
    const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
    if (!token || !timingSafeEqual(digest(token), expected)) return json(res, 401, { error: 'missing or wrong bearer token' });
    const body = await readBody(req);
    if (!body) return json(res, 413, { error: `larger than ${MAX_INBOUND_BYTES} bytes` });
    const requestId = req.headers['x-request-id'] as string | undefined;
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();

    if (url.pathname === '/inbound/mail') {
      if (type !== 'message/rfc822') return json(res, 415, { error: 'send the raw message as content-type: message/rfc822' });
      const { outcome, id } = await app.services.imip.ingest(body, 'http', requestId);
      app.log.info({ requestId, imipMessageId: id, outcome, bytes: body.length }, 'inbound mail');
      return json(res, outcome === 'unparseable' ? 400 : 200, { outcome });
    }
    if (type !== 'application/json') return json(res, 415, { error: 'send a JSON report as content-type: application/json' });
    let report: unknown;
    try {
      report = JSON.parse(body.toString('utf8'));
    } catch {
      return json(res, 400, { error: 'body is not JSON' });
    }
    try {
      const result = await app.services.deliveryStatus.record(report);
      return result === 'recorded' ? json(res, 200, { recorded: true }) : json(res, 404, { error: 'no outbox message has this Message-ID' });
    } catch (error) {
      if (error instanceof ValidationError) return json(res, 400, { error: 'invalid report', fieldErrors: error.fieldErrors });
      throw error;
    }
  };
}

const digest = (value: string) => createHash('sha256').update(value).digest();

async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_INBOUND_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function json(res: ServerResponse, status: number, body: unknown): true {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
  return true;
}

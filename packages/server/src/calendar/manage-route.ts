import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Slotwise } from '../app.js';
import { BookingNotActiveError, HoldExpiredError } from '../booking/errors.js';
import { findMagicLink, MagicLinkError, type MagicLink, type MagicLinkProblem } from '../links/magic-links.js';
import type { RouteHandler } from '../server.js';
import { bookingView, loadBookings, recipients } from './booking-mail.js';
import { renderLinkProblemPage, renderManagePage } from './manage-page.js';
import { resolveLocale } from '../forms/slot-label.js';
import { readForm } from '../forms/form-route.js';

/** As the proposal pages answer: a link for another step (an Approve link here) is refused, not unknown. */
const PROBLEM_STATUS: Record<MagicLinkProblem, number> = { unknown: 404, expired: 410, used: 410, 'wrong-purpose': 403 };

const MAX_BODY_BYTES = 8 * 1024;

/**
 * GET /manage?t=<token>: the booking a mail's manage link is for, no login. POST /manage (t,
 * action=cancel|confirm): cancels it (the engine queues the CANCEL mails) or confirms a held place (a waitlist offer).
 */
export function manageRoute(app: Slotwise): RouteHandler {
  return async (req, res, url) => {
    if (url.pathname !== '/manage' && url.pathname !== '/manage/') return false;
    // ?lang= on the page and on its forms' actions: the answer to a button reads as the page did.
    const locale = resolveLocale(url.searchParams.get('lang'));
    if (req.method === 'GET' || req.method === 'HEAD') await show(res, url.searchParams.get('t') ?? '', undefined, 200, locale);
    else if (req.method === 'POST') await act(req, res, locale);
    else {
      res.writeHead(405, { allow: 'GET, HEAD, POST', 'content-type': 'text/plain; charset=utf-8' });
      res.end('Method not allowed');
    }
    return true;
  };

  async function show(res: ServerResponse, token: string, notice?: string, status = 200, locale?: string) {
    const link = await linkFor(res, token);
    if (!link) return;
    const row = (await loadBookings(app.db.sql, [link.bookingId])).get(link.bookingId);
    if (!row) return send(res, 404, renderLinkProblemPage('gone'));
    const view = bookingView(row);
    const viewer = recipients(row, view).find((r) => r.role === link.role) ?? recipients(row, view)[0]!;
    send(
      res,
      status,
      renderManagePage({ view, status: row.status, role: link.role, timeZone: viewer.timeZone, token, now: new Date(), notice, locale }),
    );
  }

  async function act(req: IncomingMessage, res: ServerResponse, locale: string) {
    const headers = new Headers(Object.entries(req.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v] as [string, string]] : [])));
    const refused = await app.rateLimiter.check({ actor: null, headers, remoteAddress: req.socket.remoteAddress }, 'booking', 1, app.log);
    const body = await readForm(req, MAX_BODY_BYTES);
    const token = body?.get('t') ?? '';
    if (refused) {
      res.setHeader('retry-after', String(refused.retryAfterSeconds));
      return show(res, token, `Too many requests from here; try again in ${refused.retryAfterSeconds} seconds.`, 429, locale);
    }
    const action = body?.get('action');
    if (action !== 'cancel' && action !== 'confirm') return show(res, token, 'Nothing was changed.', 400, locale);
    const caller = { actor: null, requestId: req.headers['x-request-id'] as string | undefined };
    try {
      if (action === 'confirm') {
        await app.services.bookings.confirmWithLink(token, caller);
        return show(res, token, 'The booking is confirmed. A calendar invitation is on its way.', 200, locale);
      }
      await app.services.bookings.cancelWithLink(token, caller);
      return show(res, token, 'The booking is cancelled. Everyone on it gets a calendar cancellation.', 200, locale);
    } catch (error) {
      if (error instanceof MagicLinkError) return send(res, PROBLEM_STATUS[error.problem], renderLinkProblemPage(error.problem));
      if (error instanceof HoldExpiredError) return show(res, token, 'The hold on this place has expired; nothing was booked.', 409, locale);
      if (error instanceof BookingNotActiveError) return show(res, token, 'This booking is no longer active; nothing was changed.', 409, locale);
      throw error;
    }
  }

  async function linkFor(res: ServerResponse, token: string): Promise<MagicLink | null> {
    try {
      return await findMagicLink(app.db.sql, token, ['manage'], new Date(), { allowUsed: true });
    } catch (error) {
      if (!(error instanceof MagicLinkError)) throw error;
      send(res, PROBLEM_STATUS[error.problem], renderLinkProblemPage(error.problem));
      return null;
    }
  }
}

/** A page that carries a token in its address: no caching, no referrer, no scripts. */
export function send(res: ServerResponse, status: number, html: string) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // The token is in the address: never send it on to another site.
    'referrer-policy': 'no-referrer',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    'x-content-type-options': 'nosniff',
  });
  res.end(html);
}

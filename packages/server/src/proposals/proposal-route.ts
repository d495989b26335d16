import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Slotwise } from '../app.js';
import type { RouteHandler } from '../server.js';
import { readForm, send as sendHtml } from '../forms/form-route.js';
import { BookingConflictError, BookingNotActiveError, SlotFullError, SlotUnavailableError } from '../booking/errors.js';
import { NotFoundError, ValidationError } from '../shared/errors.js';
import { LinkInvalidError, ProposalClosedError } from './proposal-errors.js';
import { resolveLocale } from '../forms/slot-label.js';
import { renderDecidedPage, renderDecisionPage, renderProblemPage, renderProposedPage, renderProposePage, type Verdict } from './proposal-page.js';
import { targetFromValue } from './proposal-times.js';
import { otherRole } from './parties.js';

const LINK_STATUS: Record<LinkInvalidError['reason'], number> = { UNKNOWN: 404, EXPIRED: 410, USED: 410, WRONG_PURPOSE: 403, WRONG_BOOKING: 403 };

/**
 * GET and POST /reschedule, /approve, /decline: the no-login proposal pages. A GET only shows (mail
 * scanners open every link); the POST from the page's button proposes or decides.
 */
export function proposalRoutes(app: Slotwise): RouteHandler {
  const { proposals, proposalDecisions, proposalViews } = app.services;

  return async (req, res, url) => {
    const path = url.pathname.replace(/\/$/, '');
    if (path !== '/reschedule' && path !== '/approve' && path !== '/decline') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, HEAD, POST', 'content-type': 'text/plain; charset=utf-8' });
      res.end('Method not allowed');
      return true;
    }
    // ?lang= on the page and on its form's action: the answer to its button reads as the page did.
    const locale = resolveLocale(url.searchParams.get('lang'));
    try {
      if (req.method === 'POST') await post(req, res, path, locale);
      else if (path === '/reschedule') await showPropose(res, url.searchParams.get('r') ?? '', 200, { locale });
      else await showDecision(res, url.searchParams.get('t') ?? '', path.slice(1) as Verdict, locale);
    } catch (error) {
      const page = problemPage(error);
      if (!page) throw error;
      send(res, page.status, page.html);
    }
    return true;
  };

  async function showPropose(
    res: ServerResponse,
    token: string,
    status = 200,
    extra: { chosen?: string; note?: string; problem?: string; locale?: string } = {},
  ) {
    const view = await proposalViews.proposePage(token);
    send(res, status, renderProposePage({ ...view, token, ...extra }));
  }

  async function showDecision(res: ServerResponse, token: string, verdict: Verdict, locale: string) {
    const view = await proposalViews.decisionPage(token, verdict);
    send(res, 200, renderDecisionPage(view.booking, view.proposal, verdict, token, view.proposerName, locale));
  }

  async function post(req: IncomingMessage, res: ServerResponse, path: string, locale: string) {
    const headers = new Headers(Object.entries(req.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v] as [string, string]] : [])));
    const refused = await app.rateLimiter.check({ actor: null, headers, remoteAddress: req.socket.remoteAddress }, 'booking', 1, app.log);
    if (refused) {
      res.setHeader('retry-after', String(refused.retryAfterSeconds));
      return send(res, 429, renderProblemPage('Too many requests', `Try again in ${refused.retryAfterSeconds} seconds.`));
    }
    const body = await readForm(req);
    if (!body) return send(res, 413, renderProblemPage('Request too large', 'The request was too large.'));
    const requestId = req.headers['x-request-id'] as string | undefined;
    if (path === '/reschedule') {
      const token = body.get('r') ?? '';
      const chosen = body.get('time') ?? '';
      const note = body.get('note') ?? '';
      const target = targetFromValue(chosen);
      if (!target) return showPropose(res, token, 422, { note, problem: 'Nothing was proposed: choose one of the times and send again.', locale });
      try {
        const proposal = await proposals.propose({ token, bookingId: body.get('booking') }, target, note, requestId);
        return send(res, 200, renderProposedPage(await proposalViews.bookingSeenBy(proposal.bookingId, proposal.proposedBy), proposal, locale));
      } catch (error) {
        const problem = proposeProblem(error);
        if (!problem) throw error;
        return showPropose(res, token, problem.status, { note, chosen: problem.keepChoice ? chosen : undefined, problem: problem.message, locale });
      }
    }
    const verdict = path.slice(1) as Verdict;
    const who = { token: body.get('t') ?? '', proposalId: body.get('proposal') };
    const decision = verdict === 'approve' ? await proposalDecisions.approve(who, requestId) : await proposalDecisions.decline(who, requestId);
    const booking = await proposalViews.bookingSeenBy(decision.proposal.bookingId, otherRole(decision.proposal.proposedBy));
    send(res, 200, renderDecidedPage(booking, decision.proposal, verdict, decision.alreadyDecided, locale));
  }
}

/** The signup page's headers, and no Referer: the token is in the address. */
function send(res: ServerResponse, status: number, html: string) {
  res.setHeader('referrer-policy', 'no-referrer');
  sendHtml(res, status, html);
}

/** Failures of a proposal that the page shows beside the times, keeping what was typed. */
function proposeProblem(error: unknown): { status: number; message: string; keepChoice: boolean } | null {
  if (error instanceof SlotFullError || error instanceof SlotUnavailableError || error instanceof BookingConflictError) {
    return { status: 409, message: 'Nothing was proposed: that time was taken meanwhile. Choose another time.', keepChoice: false };
  }
  if (error instanceof ValidationError)
    return { status: 422, message: `Nothing was proposed: ${error.fieldErrors.map((e) => e.message).join('; ')}.`, keepChoice: true };
  if (error instanceof NotFoundError)
    return { status: 404, message: 'Nothing was proposed: that time does not exist any more. Choose another time.', keepChoice: false };
  return null;
}

function problemPage(error: unknown): { status: number; html: string } | null {
  if (error instanceof LinkInvalidError)
    return { status: LINK_STATUS[error.reason], html: renderProblemPage('This link cannot be used', error.message) };
  if (error instanceof ProposalClosedError) return { status: 409, html: renderProblemPage('This proposal is closed', error.message) };
  if (error instanceof BookingNotActiveError) {
    return { status: 409, html: renderProblemPage('This booking cannot be moved', `${error.message}; there is nothing to reschedule.`) };
  }
  return null;
}

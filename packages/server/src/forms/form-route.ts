import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Slotwise } from '../app.js';
import type { Form } from '../generated/prisma/client.js';
import type { RouteHandler } from '../server.js';
import { DuplicateBookingError, SlotsUnavailableError } from '../booking/errors.js';
import { NotFoundError, ValidationError } from '../shared/errors.js';
import { BookingPolicyError } from '../policies/enforce.js';
import { blockedSlots } from '../policies/visibility.js';
import type { PolicyReason } from '../policies/policy.js';
import { FormNotOpenError, FormSlotNotFoundError } from './forms.errors.js';
import { renderFormPage, renderNotFoundPage, renderSuccessPage, type PageInput, type PageProblem } from './form-page.js';
import { resolveLocale } from './slot-label.js';
import { pii } from '../shared/pii.js';

const PATH = /^\/form\/([a-z0-9-]{1,80})\/?$/;
const MAX_BODY_BYTES = 64 * 1024;
const FIELD_BY_INPUT: Record<string, keyof NonNullable<PageProblem['fields']>> = { name: 'name', email: 'email', phone: 'phone', slotIds: 'slotId' };

/** GET and POST /form/:slug — the public signup page (no JavaScript needed). */
export function formPageRoute(app: Slotwise): RouteHandler {
  return async (req, res, url) => {
    const match = PATH.exec(url.pathname);
    if (!match && !url.pathname.startsWith('/form/')) return false;
    const found = match ? await app.services.forms.pageFormBySlug(match[1]!) : null;
    // A closed form's page is gone; a sign-up sent from it before it closed is answered 403 (submit).
    const form = found && (found.status === 'PUBLISHED' || req.method === 'POST') ? found : null;
    // ?lang=en-GB writes dates and times as that locale does (and sets the page's lang); the words stay English.
    const locale = resolveLocale(url.searchParams.get('lang'));
    if (!form) send(res, 404, renderNotFoundPage());
    else if (req.method === 'GET' || req.method === 'HEAD') send(res, 200, await showPage(form.id, locale));
    else if (req.method === 'POST') await submit(req, res, form, locale);
    else {
      res.writeHead(405, { allow: 'GET, HEAD, POST', 'content-type': 'text/plain; charset=utf-8' });
      res.end('Method not allowed');
    }
    return true;
  };

  async function submit(req: IncomingMessage, res: ServerResponse, form: Form, locale: string) {
    // The page books like the `register` mutation, so it counts against the same per-client limit.
    const headers = new Headers(Object.entries(req.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v] as [string, string]] : [])));
    const refused = await app.rateLimiter.check({ actor: null, headers, remoteAddress: req.socket.remoteAddress }, 'booking', 1, app.log);
    if (refused) {
      res.setHeader('retry-after', String(refused.retryAfterSeconds));
      return send(
        res,
        429,
        await showPage(form.id, locale, undefined, { summary: `Too many sign-ups from here; try again in ${refused.retryAfterSeconds} seconds.` }),
      );
    }
    const body = await readForm(req);
    if (!body) return send(res, 413, await showPage(form.id, locale, undefined, { summary: 'The request was too large.' }));
    const input: PageInput = {
      name: body.get('name') ?? '',
      email: body.get('email') ?? '',
      phone: body.get('phone') ?? '',
      slotIds: body.getAll('slotId'),
    };
    try {
      const { registration } = await app.services.registrations.register(
        { slug: form.slug },
        { name: input.name, email: input.email, phone: input.phone.trim() || null, slotIds: input.slotIds },
        { actor: null, requestId: req.headers['x-request-id'] as string | undefined },
      );
      const booked = await app.services.forms.registrationTimes(registration.id);
      send(res, 200, renderSuccessPage(form, pii().readText(registration.name), booked, locale));
    } catch (err) {
      const failure = problemFor(err, input);
      if (!failure) throw err;
      send(res, failure.status, await showPage(form.id, locale, failure.input, failure.problem));
    }
  }

  async function showPage(formId: string, locale: string, input?: PageInput, problem?: PageProblem) {
    const { form, slots } = await app.services.forms.withUpcomingSlots(formId);
    // What can be chosen is what can be booked: times the location's booking policies refuse now are not.
    const refused = await blockedSlots(app.db.sql, slots, new Date());
    return renderFormPage(form, refused.size ? slots.map((s) => ({ ...s, refused: refused.has(s.id) })) : slots, input, problem, locale);
  }
}

/** Why a booking rule refused a time, as the page says it. */
const POLICY_WORDS: Record<PolicyReason, string> = {
  MIN_NOTICE: 'it is too soon',
  HORIZON: 'it is too far ahead',
  BUFFER: 'it is too close to another booking',
  DAILY_LIMIT: 'that day is fully booked',
  CUSTOMER_DAILY_LIMIT: 'you have as many bookings that day as one person may',
  CUSTOMER_WEEKLY_LIMIT: 'you have as many bookings that week as one person may',
};

/** Expected failures -> status, the message shown, and what of the input is kept. */
function problemFor(err: unknown, input: PageInput): { status: number; problem: PageProblem; input: PageInput } | null {
  if (err instanceof ValidationError) {
    const fields: PageProblem['fields'] = {};
    for (const e of err.fieldErrors) {
      const key = FIELD_BY_INPUT[e.path[1] ?? ''];
      if (key && !fields[key]) fields[key] = e.message;
    }
    return { status: 422, input, problem: { summary: 'Nothing was booked. Please correct the marked fields and send the form again.', fields } };
  }
  if (err instanceof SlotsUnavailableError) {
    const unavailableSlotIds = err.unavailable.map((u) => u.slotId);
    return {
      status: 409,
      input,
      problem: {
        summary: 'Nothing was booked: these times were taken while you were choosing. Your other choices are kept; pick another time and send again.',
        unavailableSlotIds,
      },
    };
  }
  if (err instanceof DuplicateBookingError) {
    // One live booking per slot per person (seed 003): the field that matched is marked.
    const key = FIELD_BY_INPUT[err.field[1] ?? ''] ?? 'email';
    return {
      status: 409,
      input,
      problem: {
        summary: 'Nothing was booked: you already have some of these times.',
        fields: { [key]: `already signed up for ${err.slotIds.length === 1 ? 'one of these times' : 'some of these times'} with this ${key}` },
      },
    };
  }
  if (err instanceof FormSlotNotFoundError) {
    const keep = input.slotIds.filter((id) => !err.slotIds.includes(id));
    return {
      status: 404,
      input: { ...input, slotIds: keep },
      problem: { summary: 'Nothing was booked: some of the chosen times are not part of this form.' },
    };
  }
  if (err instanceof BookingPolicyError) {
    return {
      status: 409,
      input,
      problem: {
        summary: `Nothing was booked: the organizer's booking rules do not allow this time (${POLICY_WORDS[err.policy]}). Your other choices are kept; pick another time and send again.`,
        unavailableSlotIds: err.slotId ? [err.slotId] : [],
      },
    };
  }
  if (err instanceof FormNotOpenError) {
    return { status: 403, input, problem: { summary: err.message } };
  }
  if (err instanceof NotFoundError) return { status: 404, input, problem: { summary: 'This form no longer exists.' } };
  return null;
}

/** The urlencoded body, or null when it is larger than the limit. */
export async function readForm(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<URLSearchParams | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) return null;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export function send(res: ServerResponse, status: number, html: string) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // No scripts at all; styles are inline; the form posts only to this server.
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    'x-content-type-options': 'nosniff',
  });
  res.end(html);
}

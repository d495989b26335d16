import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Slotwise } from '../../app.js';
import type { RouteHandler } from '../../server.js';
import { hasAnyRole, type Actor } from '../../shared/actor.js';
import { ValidationError } from '../../shared/errors.js';
import { FormSlotLimitError } from '../forms.errors.js';
import { FORM_EDITORS } from '../forms.service.js';
import { FormTextNotUnderstoodError } from './form-text.errors.js';
import { renderCreatedPage, renderNewFormPage, type NewFormFields, type NewFormProblem } from './new-form-page.js';
import { readForm } from '../form-route.js';

const PATH = '/forms/new';
const MAX_BODY_BYTES = 16 * 1024;

/**
 * GET and POST /forms/new — the staff "new form from a sentence" page. The page has no session:
 * every POST carries the staff API token, in the page's token field or an Authorization header
 * (the header wins). A token in the body also stops cross-site posts, which cannot know it.
 */
export function newFormPageRoute(app: Slotwise): RouteHandler {
  return async (req, res, url) => {
    if (url.pathname !== PATH && url.pathname !== `${PATH}/`) return false;
    const tokenInHeader = Boolean(req.headers.authorization);
    const empty: NewFormFields = { text: '', timeZone: '', token: '' };
    if (req.method === 'GET' || req.method === 'HEAD') send(res, 200, renderNewFormPage(empty, { tokenInHeader }));
    else if (req.method === 'POST') await submit(req, res, tokenInHeader);
    else {
      res.writeHead(405, { allow: 'GET, HEAD, POST', 'content-type': 'text/plain; charset=utf-8' });
      res.end('Method not allowed');
    }
    return true;
  };

  async function submit(req: IncomingMessage, res: ServerResponse, tokenInHeader: boolean) {
    const body = await readForm(req, MAX_BODY_BYTES);
    if (!body)
      return send(
        res,
        413,
        renderNewFormPage({ text: '', timeZone: '', token: '' }, { tokenInHeader, problem: { summary: 'The request was too large.' } }),
      );
    const fields: NewFormFields = { text: body.get('text') ?? '', timeZone: (body.get('timeZone') ?? '').trim(), token: body.get('token') ?? '' };
    const show = (status: number, problem?: NewFormProblem, preview?: Parameters<typeof renderNewFormPage>[1]['preview']) =>
      send(res, status, renderNewFormPage(fields, { tokenInHeader, problem, preview }));

    const actor = await staffActor(req.headers.authorization ?? (fields.token ? `Bearer ${fields.token}` : null));
    if (actor === 'unauthenticated') return show(401, { summary: 'Sign in: give a valid staff API token (admin, manager or scheduler).' });
    if (actor === 'forbidden') return show(403, { summary: 'This token may not create forms (it needs the admin, manager or scheduler role).' });
    const dryRun = body.get('action') !== 'create';
    try {
      const result = await app.services.formsFromText.create({ text: fields.text, timeZone: fields.timeZone || null, dryRun }, actor, app.log);
      if (dryRun) show(200, undefined, result);
      else send(res, 201, renderCreatedPage(result));
    } catch (err) {
      const problem = problemFor(err);
      if (!problem) throw err;
      show(422, problem);
    }
  }

  async function staffActor(authorization: string | null): Promise<Actor | 'unauthenticated' | 'forbidden'> {
    const actor = authorization ? await app.services.auth.authenticate(authorization).catch(() => null) : null;
    if (!actor) return 'unauthenticated';
    return hasAnyRole(actor, FORM_EDITORS) ? actor : 'forbidden';
  }
}

function problemFor(err: unknown): NewFormProblem | null {
  if (err instanceof FormTextNotUnderstoodError) {
    return {
      summary: 'Nothing was created: the sentence has parts that could not be read. Rephrase them and preview again.',
      items: [
        ...err.unparsed.map((p) => `Could not read: “${p}”`),
        ...err.conflicts.map((c) => `Conflicting: ${c}`),
        ...err.missing.map((m) => `Missing: ${m}`),
      ],
    };
  }
  if (err instanceof FormSlotLimitError) return { summary: err.message };
  if (err instanceof ValidationError)
    return { summary: 'Nothing was created.', items: err.fieldErrors.map((e) => `${e.path.join('.')}: ${e.message}`) };
  return null;
}

function send(res: ServerResponse, status: number, html: string) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  res.end(html);
}

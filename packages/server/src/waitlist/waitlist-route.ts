import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Slotwise } from '../app.js';
import { send } from '../calendar/manage-route.js';
import { page } from '../forms/form-page.js';
import { esc } from '../shared/html.js';
import { readForm } from '../forms/form-route.js';
import type { RouteHandler } from '../server.js';

const MAX_BODY_BYTES = 4 * 1024;

/**
 * GET /waitlist/leave?t=<leave token>: the link in the waitlist mail. It shows a button; POST
 * leaves the list (mail scanners follow GET links, so a GET changes nothing).
 */
export function waitlistRoute(app: Slotwise): RouteHandler {
  return async (req, res, url) => {
    if (url.pathname !== '/waitlist/leave') return false;
    if (req.method === 'GET' || req.method === 'HEAD') await show(res, url.searchParams.get('t') ?? '');
    else if (req.method === 'POST') await act(req, res);
    else {
      res.writeHead(405, { allow: 'GET, HEAD, POST', 'content-type': 'text/plain; charset=utf-8' });
      res.end('Method not allowed');
    }
    return true;
  };

  async function show(res: ServerResponse, token: string) {
    const entry = token ? await app.services.waitlist.byLeaveToken(token) : null;
    if (!entry)
      return send(
        res,
        404,
        page(
          'Link not valid',
          `<h1>Link not valid</h1>\n<p role="alert">This link is not valid. Check that you copied the whole link from your mail.</p>`,
        ),
      );
    if (entry.status !== 'WAITING')
      return send(res, 200, page('Waitlist', `<h1>Waitlist</h1>\n<p role="status">You are no longer waiting on this list.</p>`));
    send(
      res,
      200,
      page(
        'Leave the waitlist',
        `<h1>Leave the waitlist</h1>
<p>You are on the waitlist. If you leave it, a place that frees goes to the next person waiting.</p>
<form method="post" action="/waitlist/leave">
<input type="hidden" name="t" value="${esc(token)}">
<button type="submit">Leave the waitlist</button>
</form>`,
      ),
    );
  }

  async function act(req: IncomingMessage, res: ServerResponse) {
    const body = await readForm(req, MAX_BODY_BYTES);
    const token = body?.get('t') ?? '';
    const entry = token ? await app.services.waitlist.byLeaveToken(token) : null;
    if (!entry) return show(res, '');
    await app.services.waitlist.leave({ leaveToken: token });
    send(res, 200, page('Waitlist', `<h1>Waitlist</h1>\n<p role="status">You have left the waitlist.</p>`));
  }
}

import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Slotwise } from '../app.js';
import type { RouteHandler } from '../server.js';
import { resolveLocale } from '../forms/slot-label.js';

/** Built by `pnpm --filter @slotwise/widget build` (the root `pnpm start` runs it first). */
export const WIDGET_FILE = new URL('../../../widget/dist/widget.js', import.meta.url);
const GLOBAL_ID = /^[A-Za-z0-9+/=_-]{1,200}$/;

/** GET /widget.js (the embeddable availability widget) and /demo (a page embedding it). */
export function widgetRoutes(app: Slotwise): RouteHandler {
  return async (req, res, url) => {
    if (url.pathname !== '/widget.js' && url.pathname !== '/demo') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' });
      return (res.end(), true);
    }
    if (url.pathname === '/widget.js') return (serveWidget(res), true);
    // ?lang=en-GB: the page's lang, which the widget writes its dates and times by (as the signup page's ?lang=).
    const lang = resolveLocale(url.searchParams.get('lang'), 'en');

    // ?resource=<id> or ?form=<id>; by default the first demo resource.
    const form = url.searchParams.get('form');
    let resource = url.searchParams.get('resource');
    if (!form && !resource) {
      const first = await app.services.resources.firstActive();
      resource = first && encodeGlobalID('Resource', first.id);
    }
    const attribute = form ? `data-slotwise-form="${form}"` : resource ? `data-slotwise-resource="${resource}"` : '';
    if ((form && !GLOBAL_ID.test(form)) || (resource && !GLOBAL_ID.test(resource)))
      return (sendHtml(res, 400, page('<p>That is not a valid id.</p>', lang)), true);
    const body = attribute ? `<div ${attribute}></div>` : '<p>No resources yet: start with demo data (SEED_DEMO=true) or create one in GraphiQL.</p>';
    return (sendHtml(res, 200, page(body, lang)), true);
  };
}

async function serveWidget(res: ServerResponse) {
  const code = await readFile(WIDGET_FILE).catch(() => null);
  if (!code) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    return res.end('widget.js is not built: run `pnpm --filter @slotwise/widget build`\n');
  }
  res.writeHead(200, {
    'content-type': 'text/javascript; charset=utf-8',
    'cache-control': 'public, max-age=300',
    // Embedded on other sites: the script and the API it calls are both cross-origin there.
    'access-control-allow-origin': '*',
    'x-content-type-options': 'nosniff',
  });
  res.end(code);
}

function page(body: string, lang: string): string {
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Book a time — Slotwise demo</title>
<style>body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 980px; padding: 0 1rem; color: #1f2933; }</style>
</head>
<body>
<h1>Book a time</h1>
<p>This page embeds the Slotwise widget with one script tag and one element; availability updates live.</p>
<script src="/widget.js" defer></script>
${body}
</body>
</html>
`;
}

function sendHtml(res: ServerResponse, status: number, html: string) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy':
      "default-src 'self'; connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
    'x-content-type-options': 'nosniff',
  });
  res.end(html);
}

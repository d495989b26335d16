import type { Slotwise } from '../app.js';
import type { RouteHandler } from '../server.js';

/**
 * GET /.well-known/jwks.json: the public key of the server's access tokens, for anyone verifying
 * them. With HS256 (a shared secret) there is nothing to publish: 404.
 */
export function jwksRoute(app: Slotwise): RouteHandler {
  return async (req, res, url) => {
    if (url.pathname !== '/.well-known/jwks.json') return false;
    const jwks = app.services.signingKeys.jwks();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('Method not allowed');
    } else if (!jwks) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('No public keys: access tokens are signed with a shared secret (HS256)');
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300', 'access-control-allow-origin': '*' });
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify(jwks));
    }
    return true;
  };
}

import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Plugin } from 'graphql-yoga';

/** Answers smaller than this go out as they are: compressing them costs more than it saves. */
export const COMPRESSION_THRESHOLD_BYTES = 1024;

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);
// Whole answers only: an event stream or multipart answer must reach the client as it is written.
const COMPRESSIBLE = /^(application\/(graphql-response\+)?json|text\/html|text\/plain|application\/javascript)/;

type Encoding = 'br' | 'gzip';

/** The encoding the client prefers among br and gzip (q-values honoured; br wins a tie), or none. */
export function preferredEncoding(acceptEncoding: string | null): Encoding | undefined {
  if (!acceptEncoding) return undefined;
  const weights = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    weights.set(name!, q ? Number(q.slice(2)) || 0 : 1);
  }
  const weight = (e: Encoding) => weights.get(e) ?? weights.get('*') ?? 0;
  const best = (['br', 'gzip'] as const).filter((e) => weight(e) > 0).sort((a, b) => weight(b) - weight(a))[0];
  return best;
}

/** gzip or brotli for answers of at least `threshold` bytes when the request's Accept-Encoding allows it. */
export function useCompression(threshold = COMPRESSION_THRESHOLD_BYTES): Plugin {
  return {
    async onResponse({ request, response, setResponse, fetchAPI }) {
      const encoding = preferredEncoding(request.headers.get('accept-encoding'));
      const type = response.headers.get('content-type') ?? '';
      if (!encoding || !response.body || response.headers.has('content-encoding') || !COMPRESSIBLE.test(type)) return;
      const body = Buffer.from(await response.arrayBuffer());
      const headers = new fetchAPI.Headers(response.headers);
      headers.append('vary', 'accept-encoding');
      let sent: Buffer = body;
      if (body.length >= threshold) {
        // Quality 5: most of brotli's gain at a small part of its top-quality cost, per request.
        sent =
          encoding === 'br'
            ? await brotli(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } })
            : await gzipAsync(body);
        headers.set('content-encoding', encoding);
      }
      headers.set('content-length', String(sent.length));
      setResponse(new fetchAPI.Response(new Uint8Array(sent), { status: response.status, statusText: response.statusText, headers }));
    },
  };
}

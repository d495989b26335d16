import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

const CONTENT_LENGTH = /^\d+$/;

/**
 * MAX_BODY_BYTES, in place of Yoga's own limit (`maxRequestBodySize: false`), which pipes every body
 * through a counting stream (an abort signal, a DOMException and a stream pipeline per request). The
 * same answers: a Content-Length that is not one number is a 400, one over the limit a 413 before
 * reading. node:http reads exactly Content-Length bytes of a body, so only a body without one (chunked)
 * needs counting while it is read.
 */
export function useBodyLimit(limit: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const contentLength = request.headers.get('content-length');
      if (contentLength !== null) {
        if (!CONTENT_LENGTH.test(contentLength)) {
          throw new GraphQLError('Content-Length header is invalid.', { extensions: { http: { status: 400 }, code: 'BAD_REQUEST' } });
        }
        if (Number(contentLength) > limit) throw tooLarge();
        return;
      }
      if (!requestParser || !request.body) return;
      setRequestParser((req) => requestParser(counted(req, limit, fetchAPI)));
    },
  };
}

function tooLarge() {
  return new GraphQLError('Request body too large', { extensions: { http: { status: 413 }, code: 'REQUEST_ENTITY_TOO_LARGE' } });
}

/** The request with its body cut off (a 413) past `limit` bytes. */
function counted(request: Request, limit: number, fetchAPI: { Request: typeof Request; TransformStream: typeof TransformStream }): Request {
  // A native ReadableStream needs the native TransformStream (graphql-yoga issue 4583).
  const Transform = request.body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
  let read = 0;
  const body = request.body!.pipeThrough(
    new Transform<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        read += chunk.byteLength;
        if (read > limit) return controller.error(tooLarge());
        controller.enqueue(chunk);
      },
    }),
  );
  return new fetchAPI.Request(request.url, {
    method: request.method,
    headers: request.headers,
    signal: request.signal,
    body,
    duplex: 'half',
  } as RequestInit);
}

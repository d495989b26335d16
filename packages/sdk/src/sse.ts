import { SlotwiseError } from './errors.js';

export interface SseRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  fetch: typeof fetch;
  signal: AbortSignal;
}

/**
 * GraphQL over Server-Sent Events (distinct connections mode, as Yoga serves it):
 * yields each `next` payload until `complete`. For places without WebSocket.
 */
export async function* sseSubscribe<T>(req: SseRequest): AsyncGenerator<T, undefined> {
  try {
    yield* readEvents<T>(req);
  } catch (err) {
    // Ended by return() (the signal), as over WebSocket: quietly, not with the fetch's AbortError.
    if (req.signal.aborted) return undefined;
    throw err;
  }
}

async function* readEvents<T>(req: SseRequest): AsyncGenerator<T, undefined> {
  const response = await req.fetch(req.url, {
    method: 'POST',
    headers: { ...req.headers, 'content-type': 'application/json', accept: 'text/event-stream' },
    body: req.body,
    signal: req.signal,
  });
  if (!response.ok || !response.body) throw new SlotwiseError(`SSE request failed with HTTP ${response.status}`, 'HTTP_ERROR', response.status);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const message = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      let data = '';
      for (const line of message.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data += line.slice(5).trim();
      }
      if (event === 'complete') return;
      if (event !== 'next' || !data) continue;
      const payload = JSON.parse(data) as { data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] };
      if (payload.errors?.length) {
        const first = payload.errors[0]!;
        throw new SlotwiseError(first.message, String(first.extensions?.code ?? 'GRAPHQL_ERROR'), undefined, payload.errors);
      }
      yield payload.data as T;
    }
  }
}

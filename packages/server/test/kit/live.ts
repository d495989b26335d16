import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** What live tests select from each event. */
export const LIVE_QUERY = /* GraphQL */ `
  subscription Live($resourceId: ID, $locationId: ID, $formId: ID, $from: DateTime, $to: DateTime) {
    slotAvailability(resourceId: $resourceId, locationId: $locationId, formId: $formId, from: $from, to: $to) {
      __typename
      ... on SlotAvailabilityEvent {
        kind
        reason
        from
        to
        slots { id startAt status capacity booked held remaining version }
      }
      ... on ValidationError { code fieldErrors { path message } }
      ... on NotFoundError { code }
    }
  }
`;

export interface LiveSlot {
  id: string;
  startAt: string;
  status: string;
  capacity: number;
  booked: number;
  held: number;
  remaining: number;
  version: number;
}

export interface LiveEvent {
  __typename: string;
  kind?: 'SNAPSHOT' | 'CHANGE' | 'REMOVED';
  reason?: string | null;
  slots?: LiveSlot[];
  code?: string;
  fieldErrors?: { path: string[]; message: string }[];
}

/** Received events in order, with waiting for the n-th one (tests fail on a timeout, not a hang). */
export class EventLog<T> {
  readonly items: T[] = [];
  error: unknown = null;
  ended = false;
  private waiters: (() => void)[] = [];

  push(item: T) {
    this.items.push(item);
    this.notify();
  }

  end(error?: unknown) {
    this.ended = true;
    this.error = error ?? null;
    this.notify();
  }

  /** Resolves with the item at `index` once it has arrived. */
  async at(index: number, timeoutMs = 5000): Promise<T> {
    await this.until(() => this.items.length > index, timeoutMs, `event #${index}`);
    return this.items[index]!;
  }

  async until(done: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (this.ended && !done()) throw new Error(`stream ended before ${what}: ${JSON.stringify(this.error)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${this.items.length} events`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private notify() {
    const waiters = this.waiters.splice(0);
    for (const wake of waiters) wake();
  }
}

/** `onPing`: called on each WebSocket ping the server sends (the socket answers it). */
export function wsClient(baseUrl: string, options: { token?: string; onPing?: () => void } = {}): Client {
  const { onPing } = options;
  return createClient({
    url: `${baseUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: options.token ? { authorization: `Bearer ${options.token}` } : {},
    retryAttempts: 0,
    lazy: true,
    on: onPing ? { connected: (socket) => (socket as WebSocket).on('ping', onPing) } : {},
  });
}

/** One graphql-ws subscription; `stop()` completes it. */
export function wsSubscribe(client: Client, variables: Record<string, unknown>, query = LIVE_QUERY) {
  const log = new EventLog<LiveEvent>();
  const stop = client.subscribe<{ slotAvailability: LiveEvent }>(
    { query, variables },
    {
      next: (result) => (result.errors ? log.end(result.errors) : log.push(result.data!.slotAvailability)),
      error: (error) => log.end(error),
      complete: () => log.end(),
    },
  );
  return { log, stop };
}

/** GraphQL over SSE: POST with Accept: text/event-stream, reading the response stream as it comes. */
export function sseSubscribe(baseUrl: string, variables: Record<string, unknown>, query = LIVE_QUERY) {
  const log = new EventLog<LiveEvent>();
  const abort = new AbortController();
  void (async () => {
    try {
      const response = await fetch(`${baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query, variables }),
        signal: abort.signal,
      });
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = message
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trim())
            .join('\n');
          if (!data) continue;
          const payload = JSON.parse(data) as { data?: { slotAvailability: LiveEvent }; errors?: unknown };
          if (payload.errors) log.end(payload.errors);
          else if (payload.data) log.push(payload.data.slotAvailability);
        }
      }
      log.end();
    } catch (error) {
      log.end(abort.signal.aborted ? undefined : error);
    }
  })();
  return { log, close: () => abort.abort() };
}

/** One GraphQL request over HTTP to a listening server; returns the root field's value. */
export async function httpCall(baseUrl: string, query: string, variables: Record<string, unknown>) {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Record<string, any>; errors?: unknown[] };
  if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return Object.values(body.data!)[0];
}

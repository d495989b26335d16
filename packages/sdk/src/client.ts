import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws/client';
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
import { SlotwiseError } from './errors.js';
import { sseSubscribe } from './sse.js';

/** A document from `@slotwise/sdk` (a string) or `@slotwise/sdk/documents` (a `TypedDocumentNode` with its text in `loc`). */
export type Document<TResult, TVariables> = DocumentTypeDecoration<TResult, TVariables> & { toString(): string };

const hashes = new Map<string, Promise<string>>();

/** Hex sha256 of a document's text, as the manifest (`persisted-operations.json`) keys it. */
function sha256Hex(text: string): Promise<string> {
  let hash = hashes.get(text);
  if (!hash) {
    hash = globalThis.crypto.subtle
      .digest('SHA-256', new TextEncoder().encode(text))
      .then((digest) => Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join(''));
    hashes.set(text, hash);
  }
  return hash;
}

function queryText(document: { toString(): string }): string {
  const body = (document as { loc?: { source?: { body?: string } } }).loc?.source?.body;
  return body ?? document.toString();
}

export interface ClientOptions {
  /** HTTP endpoint, e.g. https://api.example.com/graphql */
  url: string;
  /** WebSocket endpoint; defaults to `url` with ws(s):// (a relative `url` is taken against the page). */
  wsUrl?: string;
  /** Bearer token (API token or JWT), or a function returning the current one. */
  token?: string | (() => string | undefined);
  fetch?: typeof fetch;
  headers?: Record<string, string>;
  /** WebSocket implementation for Node < 22 (e.g. `ws`); browsers use their own. Without one, subscriptions use SSE. */
  webSocketImpl?: unknown;
  /** How subscriptions travel: 'auto' (default) takes WebSocket when there is one, else SSE. */
  transport?: 'auto' | 'ws' | 'sse';
  /**
   * Send queries and mutations as the sha256 of their text (the server's PERSISTED_OPERATIONS=allow|only), not the
   * text. Only for the SDK's own documents: the server knows them from the SDK's manifest.
   */
  persistedOperations?: boolean;
  /** How often a request is retried after a network error or HTTP 502/503/504 (default 2). */
  retries?: number;
  /**
   * The zone to read local dates and times in: an IANA zone, or 'browser' for the zone of the
   * browser (or Node process) running the client. Sent as `timeZone` with every operation that
   * declares a `$timeZone` variable the call left out. Default: none (the location's zone).
   */
  timeZone?: string;
}

/** The zone the browser (or Node process) runs in, e.g. "Europe/Lisbon". */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** Adds the client's zone to the variables of a document that takes `$timeZone`, unless the call gave one. */
function withTimeZone(query: string, variables: unknown, timeZone: string | undefined): unknown {
  if (!timeZone || !/\$timeZone\s*:/.test(query)) return variables;
  const given = (variables ?? {}) as Record<string, unknown>;
  return given.timeZone === undefined ? { ...given, timeZone } : given;
}

/** A live result stream: `for await` over it, or call `next()`; `return()` unsubscribes. */
// AsyncIterator + its own [Symbol.asyncIterator], not AsyncIterableIterator<T, undefined>: TypeScript 5.0-5.5 know that with one argument only.
export interface Subscription<T> extends AsyncIterator<T, undefined> {
  [Symbol.asyncIterator](): Subscription<T>;
  next(): Promise<IteratorResult<T, undefined>>;
  return(): Promise<IteratorResult<T, undefined>>;
}

export interface RequestOptions {
  /** Reuse a key to make a repeated mutation safe; by default each call gets a fresh one. */
  idempotencyKey?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

const RETRYABLE_STATUS = new Set([502, 503, 504]);

/** Whether a document holds a mutation: first, or after fragment definitions (comments ignored). */
export function isMutation(query: string): boolean {
  return /(^|\})\s*mutation\b/.test(query.replace(/#[^\n\r]*/g, ''));
}

export function createClient(options: ClientOptions) {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const retries = options.retries ?? 2;
  const timeZone = options.timeZone === 'browser' ? browserTimeZone() : options.timeZone;
  const token = () => (typeof options.token === 'function' ? options.token() : options.token);
  // Read-your-writes with a read replica: the server's token from this client's last mutation,
  // sent back with every request so its reads see that write.
  let readAfter: string | undefined;
  const headers = (extra?: Record<string, string>): Record<string, string> => {
    const t = token();
    return {
      ...options.headers,
      ...(t ? { authorization: `Bearer ${t}` } : {}),
      ...(readAfter ? { 'slotwise-read-after': readAfter } : {}),
      ...extra,
    };
  };
  const WebSocketImpl = options.transport === 'sse' ? undefined : (options.webSocketImpl ?? (globalThis as { WebSocket?: unknown }).WebSocket);
  if (options.transport === 'ws' && !WebSocketImpl) throw new SlotwiseError('No WebSocket implementation: pass webSocketImpl', 'NO_WEBSOCKET');
  let ws: WsClient | undefined;
  const wsClient = () =>
    (ws ??= createWsClient({
      url: options.wsUrl ?? toWebSocketUrl(options.url),
      webSocketImpl: WebSocketImpl,
      lazy: true,
      // A dropped connection is re-established and every subscription restarts with a fresh snapshot.
      retryAttempts: Number.POSITIVE_INFINITY,
      shouldRetry: () => true,
      connectionParams: () => {
        const t = token();
        return t ? { authorization: `Bearer ${t}` } : {};
      },
    }));

  /** Sends one operation; business errors come back as data (switch on `__typename`). */
  async function request<TResult, TVariables>(
    document: Document<TResult, TVariables>,
    ...[given, opts = {}]: [TVariables] extends [Record<string, never>] ? [TVariables?, RequestOptions?] : [TVariables, RequestOptions?]
  ): Promise<TResult> {
    const query = queryText(document);
    const variables = withTimeZone(query, given, timeZone);
    const extra: Record<string, string> = { ...opts.headers };
    // One key per call, reused by its retries: a retried booking cannot book twice.
    if (isMutation(query)) extra['idempotency-key'] = opts.idempotencyKey ?? globalThis.crypto.randomUUID();
    const body = JSON.stringify(
      options.persistedOperations
        ? { variables, extensions: { persistedQuery: { version: 1, sha256Hash: await sha256Hex(query) } } }
        : { query, variables },
    );
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await doFetch(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers(extra) },
          body,
          signal: opts.signal,
        });
      } catch (err) {
        if (attempt < retries && !opts.signal?.aborted) {
          await backoff(attempt);
          continue;
        }
        throw new SlotwiseError(`Network error: ${(err as Error).message}`, 'NETWORK_ERROR');
      }
      if (RETRYABLE_STATUS.has(response.status) && attempt < retries) {
        await backoff(attempt);
        continue;
      }
      readAfter = response.headers.get('slotwise-read-after') ?? readAfter;
      const payload = (await response.json().catch(() => null)) as {
        data?: TResult | null;
        errors?: { message: string; extensions?: Record<string, unknown> }[];
      } | null;
      if (!payload) throw new SlotwiseError(`Unexpected HTTP ${response.status} response`, 'HTTP_ERROR', response.status);
      if (payload.errors?.length) {
        const first = payload.errors[0]!;
        const code = String(first.extensions?.code ?? 'GRAPHQL_ERROR');
        // The lost first attempt is still running on the server: ask again for its stored response.
        if (code === 'IDEMPOTENCY_KEY_IN_PROGRESS' && attempt < retries) {
          await backoff(attempt);
          continue;
        }
        throw new SlotwiseError(first.message, code, response.status, payload.errors);
      }
      return payload.data as TResult;
    }
  }

  /** Live results as an async iterable: over WebSocket when there is one, otherwise over SSE. */
  function subscribe<TResult, TVariables>(
    document: Document<TResult, TVariables>,
    ...[given]: [TVariables] extends [Record<string, never>] ? [TVariables?] : [TVariables]
  ): Subscription<TResult> {
    const query = queryText(document);
    const variables = withTimeZone(query, given, timeZone);
    if (WebSocketImpl) {
      const iterator = wsClient().iterate<TResult>({ query, variables: variables as Record<string, unknown> | undefined });
      return mapIterator(iterator, (result) => {
        if (result.errors?.length) {
          const first = result.errors[0]!;
          throw new SlotwiseError(first.message, String(first.extensions?.code ?? 'GRAPHQL_ERROR'), undefined, result.errors);
        }
        return result.data as TResult;
      });
    }
    const controller = new AbortController();
    const stream = sseSubscribe<TResult>({
      url: options.url,
      body: JSON.stringify({ query, variables }),
      headers: headers(),
      fetch: doFetch,
      signal: controller.signal,
    });
    return mapIterator(
      stream,
      (value) => value,
      () => controller.abort(),
    );
  }

  return {
    request,
    subscribe,
    /** Closes the WebSocket, if one was opened. */
    async dispose() {
      await ws?.dispose();
    },
  };
}

export type SlotwiseClient = ReturnType<typeof createClient>;

/** http(s) -> ws(s); a relative URL (browsers) is taken against the page. */
function toWebSocketUrl(url: string): string {
  const absolute = new URL(url, (globalThis as { location?: { href: string } }).location?.href);
  absolute.protocol = absolute.protocol === 'https:' ? 'wss:' : 'ws:';
  return absolute.href;
}

function backoff(attempt: number) {
  return new Promise((r) => setTimeout(r, 100 * 2 ** attempt + Math.random() * 100));
}

function mapIterator<A, B>(source: AsyncIterator<A>, fn: (a: A) => B, onReturn?: () => void): Subscription<B> {
  return {
    async next() {
      const r = await source.next();
      return r.done ? { done: true, value: undefined } : { done: false, value: fn(r.value) };
    },
    async return() {
      onReturn?.();
      await source.return?.().catch(() => {});
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

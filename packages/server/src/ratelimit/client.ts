import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { DocumentNode, OperationDefinitionNode, SelectionSetNode } from 'graphql';
import { fieldsOf, fragmentsOf } from '../shared/selection.js';
import type { Actor } from '../shared/actor.js';

/** The bucket an operation counts against. */
export type LimitKind = 'read' | 'booking';

/**
 * The bucket an operation is charged to and how much: booking root fields count one each in the
 * booking bucket (so aliases cannot multiply a hit); everything else its static cost (cost.ts) in
 * the read bucket.
 */
export function operationCharge(
  operation: OperationDefinitionNode,
  document: DocumentNode,
  bookingMutations: ReadonlySet<string>,
  staticCost: number,
): { kind: LimitKind; cost: number } {
  const read = { kind: 'read' as const, cost: Math.max(1, staticCost) };
  if (operation.operation !== 'mutation') return read;
  const bookings = rootFieldNames(operation.selectionSet, document).filter((name) => bookingMutations.has(name)).length;
  // Other mutations (cancel, reschedule, tokens) are not booking attempts; they share the read bucket.
  return bookings ? { kind: 'booking', cost: bookings } : read;
}

/** The root field names an operation selects, through fragments. */
export function rootFieldNames(selectionSet: SelectionSetNode, document: DocumentNode): string[] {
  return fieldsOf(selectionSet, fragmentsOf(document)).map((field) => field.name.value);
}

/** Where a request came from, as much as the server can see. */
export interface ClientSource {
  actor: Actor | null;
  headers: Headers;
  /** The socket's peer address (HTTP request or WebSocket upgrade). */
  remoteAddress: string | undefined;
}

export interface ClientKey {
  key: string;
  /** Anonymous callers that name a session also count against their address, with a larger allowance. */
  ipKey?: string;
}

/**
 * The signed-in user, else the X-Session-Id the client sends, else its IP address. A session id is
 * the client's own choice, so it is hashed (bounded key size) and backed by a per-IP ceiling that a
 * client rotating session ids cannot escape.
 */
export function clientKey(source: ClientSource, trustedProxies: number): ClientKey {
  if (source.actor) return { key: `user:${source.actor.userId}` };
  const ip = clientIp(source, trustedProxies);
  const ipKey = ip ? `ip:${ip}` : undefined;
  const session = source.headers.get('x-session-id')?.trim();
  if (session) return { key: `session:${createHash('sha256').update(session).digest('base64url').slice(0, 22)}`, ipKey };
  return { key: ipKey ?? 'ip:unknown' };
}

/**
 * Behind `trustedProxies` proxies that each append to X-Forwarded-For, the client is that many
 * entries from the right; anything further left was written by the client and could be forged.
 */
export function clientIp(source: Pick<ClientSource, 'headers' | 'remoteAddress'>, trustedProxies: number): string | undefined {
  if (trustedProxies > 0) {
    const hops = (source.headers.get('x-forwarded-for') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const forwarded = hops[hops.length - trustedProxies] ?? hops[0];
    if (forwarded) return forwarded;
  }
  return source.remoteAddress;
}

/** The socket under Yoga's Node adapter (`req`) or under graphql-ws (`extra.request`). */
export function remoteAddressOf(context: { req?: IncomingMessage; extra?: { request?: IncomingMessage } }): string | undefined {
  return (context.req ?? context.extra?.request)?.socket?.remoteAddress;
}

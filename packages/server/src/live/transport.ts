import type { ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';

/** Close code for a WebSocket cut off because it did not read its events (graphql-ws leaves 4400-4499 to the protocol). */
export const CLOSE_TOO_SLOW = 4008;
/** How long a cut-off socket gets to take its close frame before it is dropped. */
const CLOSE_GRACE_MS = 3000;

/**
 * How to cut the connection that carries a subscription, from the GraphQL context: Yoga keeps the
 * graphql-ws `extra.socket` (WebSocket) or the Node `res` (SSE) of the initial context in it.
 * A subscriber that stopped reading has its connection's buffers full, so ending only its
 * stream would not free them: the connection goes.
 */
export function connectionCutter(context: unknown): (error: Error) => void {
  const { extra, res } = context as { extra?: { socket?: WebSocket }; res?: ServerResponse };
  const socket = extra?.socket;
  if (socket) {
    return () => {
      socket.close(CLOSE_TOO_SLOW, 'subscriber too slow');
      setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
    };
  }
  if (res) return () => res.destroy();
  // yoga.fetch without a socket: the stream itself ends with the error at the next read.
  return () => {};
}

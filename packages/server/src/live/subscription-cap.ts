import { createGraphQLError, isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { clientIp, remoteAddressOf } from '../ratelimit/client.js';

/**
 * Live subscriptions per client address, over WebSocket and SSE together: counted from the moment
 * one is admitted (before anything awaits, so a burst cannot slip past) until its stream ends.
 * Refused ones run nothing and touch no database.
 */
export function useSubscriptionCap(maxPerAddress: number, trustedProxies: number): Plugin & { open(address: string): number } {
  const open = new Map<string, number>();
  const release = (address: string) => {
    const left = (open.get(address) ?? 1) - 1;
    if (left > 0) open.set(address, left);
    else open.delete(address);
  };
  return {
    open: (address) => open.get(address) ?? 0,
    onSubscribe({ args, setResultAndStopExecution }) {
      const context = args.contextValue as unknown as Context & Parameters<typeof remoteAddressOf>[0];
      const address = clientIp({ headers: context.headers, remoteAddress: remoteAddressOf(context) }, trustedProxies) ?? 'unknown';
      const count = open.get(address) ?? 0;
      if (count >= maxPerAddress) {
        setResultAndStopExecution({
          errors: [
            createGraphQLError(`At most ${maxPerAddress} live subscriptions per client address`, {
              extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', http: { status: 429 } },
            }),
          ],
        });
        return;
      }
      open.set(address, count + 1);
      let released = false;
      const done = () => {
        if (!released) release(address);
        released = true;
      };
      return {
        onSubscribeResult({ result }) {
          if (!isAsyncIterable(result)) return done();
          return { onEnd: done };
        },
      };
    },
  };
}

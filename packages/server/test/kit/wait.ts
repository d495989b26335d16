import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import type { PubSubHandle } from '../../src/live/pubsub.js';
import { SLOT_CHANGES_TOPIC, type SlotChange, type SlotChangeBatch } from '../../src/events/slot-events.js';

/**
 * Waiting in tests: for a condition (polled) or for what was published, never for a fixed time.
 * A fixed delay is only for simulating slowness (see `simulatedLatency`).
 */

/** Polls `check` until it returns a truthy value and returns that; the error names what never happened. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what = 'condition',
  timeoutMs = 15_000,
  everyMs = 50,
): Promise<NonNullable<Awaited<T>>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<Awaited<T>>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A deliberate delay inside a fault-injection script (a slow receiver, a slow worker): not a wait for anything. */
export function simulatedLatency(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The slot changes published while `fn` runs, and its result. Subscribed before `fn` starts; after
 * it, an end marker is published on the same topic, so every change published before is in once
 * the marker comes back (messages on a topic arrive in order).
 */
export async function publishedDuring<T>(pubsub: PubSubHandle['pubsub'], fn: () => Promise<T>): Promise<{ result: T; changes: SlotChange[] }> {
  const changes: SlotChange[] = [];
  // An empty batch (live feeds skip it) that only this call recognises.
  const end: SlotChangeBatch & { endMarker: string } = { changes: [], endMarker: randomUUID() };
  const iterator = pubsub.subscribe(SLOT_CHANGES_TOPIC)[Symbol.asyncIterator]();
  // The first next() attaches the listener, synchronously: nothing fn publishes is missed.
  const first = iterator.next();
  const drained = (async () => {
    for (let next = await first; !next.done; next = await iterator.next()) {
      const message = next.value as Partial<typeof end>;
      if (message.endMarker === end.endMarker) return;
      changes.push(...(message.changes ?? []));
    }
  })();
  try {
    const result = await fn();
    pubsub.publish(SLOT_CHANGES_TOPIC, end);
    await drained;
    return { result, changes };
  } finally {
    await iterator.return?.();
  }
}

/**
 * Runs `step` again and again, `intervalMs` apart, as the server's job runner does, until `stop()`,
 * which resolves once the run in progress has ended.
 */
export function runRepeatedly(step: () => Promise<unknown>, intervalMs: number): { stop(): Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await step();
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    stop: () => {
      stopped = true;
      return loop;
    },
  };
}

/** Whether something accepts TCP connections on the loopback port right now. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

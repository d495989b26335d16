import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { liveInterrupted } from './slot-feed.js';

/**
 * Ends every live subscription (SSE and WebSocket alike) when `signal` aborts: a last result with a
 * LIVE_INTERRUPTED error (the client subscribes again, to another instance), then the end of the
 * stream (SSE `complete`), so a stopping server waits for no open stream. Without it an SSE stream
 * held shutdown for SHUTDOWN_TIMEOUT_MS and was then cut.
 */
export function useEndOnShutdown(signal: AbortSignal): Plugin {
  const open = new Set<EndingStream>();
  signal.addEventListener('abort', () => {
    for (const stream of open) stream.interrupt();
  });
  return {
    onSubscribe() {
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) setResult(new EndingStream(result[Symbol.asyncIterator](), open, signal.aborted));
        },
      };
    },
  };
}

/**
 * A subscription's results until its source ends, or until `interrupt()` (then one LIVE_INTERRUPTED
 * result). A pending `next()` is answered at once: the source may wait long for its next event.
 */
export class EndingStream implements AsyncIterableIterator<ExecutionResult> {
  private waiting: ((result: IteratorResult<ExecutionResult>) => void) | null = null;
  private state: 'open' | 'interrupted' | 'done' = 'open';

  constructor(
    private readonly source: AsyncIterator<ExecutionResult>,
    private readonly open: Set<EndingStream>,
    interrupted: boolean,
  ) {
    open.add(this);
    if (interrupted) this.state = 'interrupted';
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    if (this.state === 'interrupted') return Promise.resolve(this.lastResult());
    if (this.state === 'done') return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.source.next().then(
        (result) => {
          if (this.waiting !== resolve) return;
          this.waiting = null;
          if (result.done) this.finish();
          resolve(result);
        },
        (error: unknown) => {
          if (this.waiting !== resolve) return;
          this.waiting = null;
          this.finish();
          reject(error);
        },
      );
    });
  }

  interrupt(): void {
    if (this.state !== 'open') return;
    const waiting = this.waiting;
    this.waiting = null;
    this.state = 'interrupted';
    waiting?.(this.lastResult());
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  private lastResult(): IteratorResult<ExecutionResult> {
    this.finish();
    return { value: { errors: [liveInterrupted('this server is stopping')] }, done: false };
  }

  private finish(): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.open.delete(this);
    // Not awaited: a source waiting for its next event may only finish its return then.
    void Promise.resolve(this.source.return?.()).catch(() => {});
  }
}

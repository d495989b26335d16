import { useCallback, useRef, useState } from 'react';
import {
  BookDocument,
  ConfirmDocument,
  HoldDocument,
  SlotwiseError,
  isBusinessError,
  type BookInput,
  type BookMutation,
  type BusinessError,
  type ConfirmMutation,
  type Document,
  type HoldInput,
  type HoldMutation,
  type ManageBookingInput,
  type RequestOptions,
} from '@slotwise/sdk';
import { useSlotwiseClient } from './provider.js';

export interface MutationState<R extends { __typename: string }, S extends R['__typename']> {
  /** A request is in flight. */
  loading: boolean;
  /** The last answer, success or business error: `switch (result.__typename)`. */
  result?: R;
  /** The last answer when it succeeded. */
  data?: Extract<R, { __typename: S }>;
  /** The last answer when it was a business error (`SlotFullError`, `ValidationError`, …), narrowed by `__typename`. */
  error?: BusinessError<R>;
  /** The last request failed as a whole (network, rate limit, …); `run` rejected with it too. */
  failure?: SlotwiseError;
}

export interface Mutation<I, R extends { __typename: string }, S extends R['__typename']> extends MutationState<R, S> {
  /** Sends the mutation; resolves with its result union, rejects with `SlotwiseError` when the request fails. */
  run(input: I, options?: RequestOptions): Promise<R>;
  /** Back to the initial state. */
  reset(): void;
}

function useMutation<I, D, F extends keyof D & string, S extends string>(
  document: Document<D, { input: I }>,
  field: F,
  success: S,
): Mutation<I, D[F] & { __typename: string }, S & (D[F] & { __typename: string })['__typename']> {
  type R = D[F] & { __typename: string };
  type St = MutationState<R, S & R['__typename']>;
  const client = useSlotwiseClient();
  const [state, setState] = useState<St>({ loading: false });
  // Only the latest call may set the state: an earlier, slower answer must not overwrite it.
  const latest = useRef(0);
  const run = useCallback(
    async (input: I, options?: RequestOptions): Promise<R> => {
      const call = ++latest.current;
      setState((s) => ({ ...s, loading: true }));
      try {
        const result = (await client.request(document, { input } as never, options))[field] as R;
        if (call === latest.current) {
          setState({
            loading: false,
            result,
            data: result.__typename === success ? (result as St['data']) : undefined,
            error: isBusinessError(result) ? (result as St['error']) : undefined,
          });
        }
        return result;
      } catch (err) {
        const failure = err instanceof SlotwiseError ? err : new SlotwiseError(String((err as Error)?.message ?? err), 'CLIENT_ERROR');
        if (call === latest.current) setState({ loading: false, failure });
        throw failure;
      }
    },
    [client, document, field, success],
  );
  const reset = useCallback(() => {
    latest.current++;
    setState({ loading: false });
  }, []);
  return { ...state, run, reset };
}

/** Holds a place (status HELD until confirmed): `data` is the `BookingReceipt` with its `manageToken`. */
export function useHold() {
  return useMutation<HoldInput, HoldMutation, 'hold', 'BookingReceipt'>(HoldDocument, 'hold', 'BookingReceipt');
}

/** Books a place in one step (status CONFIRMED): `data` is the `BookingReceipt`. */
export function useBook() {
  return useMutation<BookInput, BookMutation, 'book', 'BookingReceipt'>(BookDocument, 'book', 'BookingReceipt');
}

/** Confirms a hold with its `bookingId` and `manageToken`: `data` is the confirmed `Booking`. */
export function useConfirm() {
  return useMutation<ManageBookingInput, ConfirmMutation, 'confirm', 'Booking'>(ConfirmDocument, 'confirm', 'Booking');
}

import { createContext, createElement, useContext, useMemo, type ReactNode } from 'react';
import { createClient, type ClientOptions, type SlotwiseClient } from '@slotwise/sdk';

const ClientContext = createContext<SlotwiseClient | null>(null);

export type SlotwiseProviderProps = { children?: ReactNode } & (
  | { /** A client you made with `createClient` (you dispose it). */ client: SlotwiseClient }
  | { /** Options for a client the provider makes. */ options: ClientOptions }
);

/** Makes one Slotwise client available to the hooks below it. */
export function SlotwiseProvider(props: SlotwiseProviderProps) {
  const given = 'client' in props ? props.client : undefined;
  const key = 'options' in props ? JSON.stringify(props.options) : '';
  // The options object may be a fresh literal each render: a new client only when its JSON changes (functions in
  // it, such as `token`, are taken from the first render). Not disposed on unmount (StrictMode unmounts and
  // mounts again): its WebSocket is lazy and closes by itself once the last subscription ends.
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed on the options' JSON, as said above.
  const own = useMemo(() => ('options' in props ? createClient(props.options) : undefined), [key]);
  return createElement(ClientContext.Provider, { value: given ?? own! }, props.children);
}

/** The client from the nearest `SlotwiseProvider`. */
export function useSlotwiseClient(): SlotwiseClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error('useSlotwiseClient: wrap the component in <SlotwiseProvider>');
  return client;
}

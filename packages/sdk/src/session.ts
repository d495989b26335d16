import { createClient, type ClientOptions, type SlotwiseClient } from './client.js';
import {
  CompleteSignInDocument,
  RefreshSessionDocument,
  RequestSignInDocument,
  SignOutDocument,
  type AuthSessionFieldsFragment,
  type CompleteSignInInput,
  type CompleteSignInMutation,
  type RequestSignInMutation,
} from './generated/graphql.js';

/** What a signed-in client keeps: store it (e.g. in localStorage) to stay signed in across reloads. */
export type SessionTokens = Pick<AuthSessionFieldsFragment, 'accessToken' | 'accessTokenExpiresAt' | 'refreshToken' | 'refreshTokenExpiresAt'>;

export interface SessionClientOptions extends Omit<ClientOptions, 'token'> {
  /** A session kept from before (see `onSession`). */
  session?: SessionTokens | null;
  /** Called whenever the tokens change (signed in, refreshed, signed out: null). */
  onSession?: (session: SessionTokens | null) => void;
  /** Refresh this long before the access token expires (default 30 s). */
  refreshMarginMs?: number;
}

/**
 * A client that signs in by email (requestSignIn, then completeSignIn with the mailed code or the
 * link's token), sends the access token, and refreshes it shortly before it expires. A refresh
 * that fails (revoked, expired, reused) signs the client out.
 */
export function createSessionClient(options: SessionClientOptions) {
  let session = options.session ?? null;
  let refreshing: Promise<void> | null = null;
  const margin = options.refreshMarginMs ?? 30_000;
  const setSession = (next: SessionTokens | null) => {
    session = next;
    options.onSession?.(next);
  };
  const client = createClient({ ...options, token: () => session?.accessToken });
  // Sign-in calls carry no access token: the code, link or refresh token is the credential.
  const anonymous = createClient({ ...options, token: undefined });

  function refreshIfDue(): Promise<void> {
    if (!session || Date.parse(session.accessTokenExpiresAt) - Date.now() > margin) return Promise.resolve();
    const { refreshToken } = session;
    refreshing ??= anonymous
      .request(RefreshSessionDocument, { input: { refreshToken } })
      .then(({ refreshSession: result }) => setSession(result.__typename === 'AuthSession' ? tokens(result) : null))
      .finally(() => (refreshing = null));
    return refreshing;
  }

  const request = (async (document: Parameters<SlotwiseClient['request']>[0], ...rest: unknown[]) => {
    await refreshIfDue();
    return (client.request as (...args: unknown[]) => Promise<unknown>)(document, ...rest);
  }) as SlotwiseClient['request'];

  return {
    ...client,
    request,
    get session(): SessionTokens | null {
      return session;
    },
    /** Mails a code and a link to the address (the answer is the same for every address). */
    async requestSignIn(email: string): Promise<RequestSignInMutation['requestSignIn']> {
      return (await anonymous.request(RequestSignInDocument, { input: { email } })).requestSignIn;
    },
    /** The mailed code with its email, or the link's `t` token; on success the client is signed in. */
    async completeSignIn(input: CompleteSignInInput): Promise<CompleteSignInMutation['completeSignIn']> {
      const result = (await anonymous.request(CompleteSignInDocument, { input })).completeSignIn;
      if (result.__typename === 'AuthSession') setSession(tokens(result));
      return result;
    },
    /** Revokes the session on the server (with `everywhere`, every session of the user) and forgets it. */
    async signOut(everywhere = false): Promise<void> {
      if (session) await anonymous.request(SignOutDocument, { input: { refreshToken: session.refreshToken, everywhere } });
      setSession(null);
    },
    async dispose() {
      await Promise.all([client.dispose(), anonymous.dispose()]);
    },
  };
}

export type SessionClient = ReturnType<typeof createSessionClient>;

function tokens(s: AuthSessionFieldsFragment): SessionTokens {
  return {
    accessToken: s.accessToken,
    accessTokenExpiresAt: s.accessTokenExpiresAt,
    refreshToken: s.refreshToken,
    refreshTokenExpiresAt: s.refreshTokenExpiresAt,
  };
}

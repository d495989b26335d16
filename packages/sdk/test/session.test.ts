import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionClient, type SessionTokens } from '../src/index.js';
import { MeDocument, RefreshSessionDocument } from '../src/generated/graphql.js';
import { createClient } from '../src/index.js';
import { startLiveServer, type LiveServer } from './live-server.js';

/** The server's SMTP test server, loaded by a computed URL (the SDK's typecheck never follows server code). */
interface MailServer {
  url: string;
  messages: { envelope: { to: string[] }; parsed: { subject?: string; text?: string } }[];
  close(): Promise<void>;
}
const mailServerModule = new URL('../../server/test/mail-server.ts', import.meta.url).href;

let smtp: MailServer;
let server: LiveServer;
beforeAll(async () => {
  smtp = await ((await import(mailServerModule)) as { startMailServer(): Promise<MailServer> }).startMailServer();
  // The server's own delivery worker sends the sign-in mail over SMTP.
  server = await startLiveServer({ config: { SMTP_URL: smtp.url, ACCESS_TOKEN_TTL_SECONDS: '60' } });
});
afterAll(async () => {
  await server?.stop();
  await smtp?.close();
});

/** The server's test kit `waitFor` (polls a condition), loaded the same way. */
type WaitFor = <T>(check: () => T | Promise<T>, what: string, timeoutMs?: number) => Promise<NonNullable<Awaited<T>>>;
const waitKitModule = new URL('../../server/test/kit/wait.ts', import.meta.url).href;

async function mailedCode(to: string): Promise<string> {
  const { waitFor } = (await import(waitKitModule)) as { waitFor: WaitFor };
  const mail = await waitFor(() => smtp.messages.find((m) => m.envelope.to.includes(to)), `a sign-in mail to ${to}`, 30_000);
  return /(\d{6})$/.exec(mail.parsed.subject!)![1]!;
}

describe('createSessionClient', () => {
  it('signs in with the mailed code, sends the access token, refreshes it before it expires, and signs out', async () => {
    const seen: (SessionTokens | null)[] = [];
    // A 61 s margin with 60 s tokens: every request refreshes first.
    const client = createSessionClient({ url: server.url, refreshMarginMs: 61_000, onSession: (s) => seen.push(s) });
    expect((await client.requestSignIn('sdk.user@example.com')).__typename).toBe('SignInRequested');
    const code = await mailedCode('sdk.user@example.com');

    const signedIn = await client.completeSignIn({ email: 'sdk.user@example.com', code });
    expect(signedIn).toMatchObject({ __typename: 'AuthSession', user: { email: 'sdk.user@example.com', roles: ['user'] } });
    const first = client.session!;
    expect(seen).toEqual([first]);

    expect((await client.request(MeDocument)).me?.email).toBe('sdk.user@example.com');
    expect(client.session!.refreshToken).not.toBe(first.refreshToken);
    expect(seen).toHaveLength(2);
    // The spent refresh token is refused by the server (and revokes its family, so sign out next).
    const reuse = (await createClient({ url: server.url }).request(RefreshSessionDocument, { input: { refreshToken: first.refreshToken } }))
      .refreshSession;
    expect(reuse).toMatchObject({ __typename: 'RefreshTokenInvalidError', reason: 'REUSED' });

    // The family is gone: the next refresh fails and the client is signed out.
    expect((await client.request(MeDocument)).me).toBeNull();
    expect(client.session).toBeNull();
    expect(seen.at(-1)).toBeNull();
    await client.dispose();
  });

  it('signOut revokes the session on the server', async () => {
    const client = createSessionClient({ url: server.url });
    await client.requestSignIn('sdk.leaver@example.com');
    await client.completeSignIn({ email: 'sdk.leaver@example.com', code: await mailedCode('sdk.leaver@example.com') });
    const { refreshToken } = client.session!;
    expect((await client.request(MeDocument)).me?.email).toBe('sdk.leaver@example.com');
    await client.signOut();
    expect(client.session).toBeNull();
    const after = (await createClient({ url: server.url }).request(RefreshSessionDocument, { input: { refreshToken } })).refreshSession;
    expect(after).toMatchObject({ reason: 'REVOKED' });
    await client.dispose();
  });
});

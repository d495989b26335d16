import { createPublicKey, verify } from 'node:crypto';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { waitFor } from '../../test/kit/wait.js';
import { BOOK, CANCEL, RESCHEDULE, call } from '../../test/kit/documents.js';
import { gid, clinic } from '../../test/kit/fixtures.js';
import { startMailServer, type MailServer, type ReceivedMail } from '../../test/mail-server.js';
import { mailDeliveryFromConfig } from '../mail/delivery.js';
import { startServer, type RunningServer } from '../server.js';
import { jwksRoute } from './jwks-route.js';
import { MAX_CODE_ATTEMPTS } from './sign-in.service.js';

/**
 * Issue #20 end to end: requestSignIn queues the mail, the delivery worker sends it over SMTP to
 * a real server, the code and link are read back from the received message.
 */
let t: TestApp;
let smtp: MailServer;
let server: RunningServer;
let c: Awaited<ReturnType<typeof clinic>>;
let ip = 0;

const CODE_TTL_MINUTES = 10;

beforeAll(async () => {
  smtp = await startMailServer();
  t = await createTestApp({
    config: {
      SMTP_URL: smtp.url,
      // Asymmetric: a key pair generated into the database, published at /.well-known/jwks.json.
      JWT_SIGNING_ALG: 'ES256',
      PUBLIC_URL: 'https://book.example',
      SIGN_IN_CODE_TTL_MINUTES: String(CODE_TTL_MINUTES),
      SIGN_IN_REQUESTS_PER_EMAIL_PER_HOUR: '3',
      SIGN_IN_REQUESTS_PER_IP_PER_HOUR: '6',
      ACCESS_TOKEN_TTL_SECONDS: '600',
      // Each test is its own client address (X-Forwarded-For), so the per-address limit is per test.
      TRUST_PROXY: 'true',
    },
  });
  c = await clinic(t);
  server = await startServer(t.app, { port: 0, host: '127.0.0.1', routes: [jwksRoute(t.app)] });
});
afterAll(async () => {
  await server?.stop();
  await t?.close();
  await smtp?.close();
});

const REQUEST = `mutation ($input: RequestSignInInput!) { requestSignIn(input: $input) {
  __typename ... on SignInRequested { expiresAt } ... on SignInRateLimitedError { code retryAfterSeconds } ... on ValidationError { fieldErrors { path } } } }`;
const SESSION = `__typename ... on AuthSession { accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt user { email roles } }`;
const COMPLETE = `mutation ($input: CompleteSignInInput!) { completeSignIn(input: $input) {
  ${SESSION} ... on SignInInvalidError { code reason } ... on ValidationError { fieldErrors { path } } } }`;
const REFRESH = `mutation ($input: RefreshSessionInput!) { refreshSession(input: $input) { ${SESSION} ... on RefreshTokenInvalidError { code reason } } }`;
const SIGN_OUT = `mutation ($input: SignOutInput!) { signOut(input: $input) { __typename ... on SignedOut { revoked } } }`;
const MY_BOOKINGS = `query { myBookings(from: "2055-01-01T00:00:00Z", to: "2055-12-31T00:00:00Z") { __typename
  ... on MyBookingsSuccess { data { id status startAt customer { email } } } } }`;

const newClient = () => ({ 'x-forwarded-for': `198.51.100.${++ip}` });
const requestSignIn = async (email: string, headers = newClient()) => await call(t, REQUEST, { email }, { headers });
const complete = (input: Record<string, unknown>) => call(t, COMPLETE, input);
const refresh = (refreshToken: string) => call(t, REFRESH, { refreshToken });

/** Sign-in mails a test has read already. */
const read = new Set<ReceivedMail>();

/** Delivers what is queued and returns the next unread sign-in mail received for `to`: its code and link token. */
async function mailTo(to: string): Promise<{ code: string; token: string; link: string; mail: ReceivedMail }> {
  const delivery = mailDeliveryFromConfig(t.app, { now: () => new Date(Date.now() + 1_000) });
  const mail = await waitFor(async () => {
    const next = smtp.messages.find((m) => !read.has(m) && m.envelope.to.includes(to) && m.parsed.subject?.startsWith('Your sign-in code'));
    if (!next) await delivery.runOnce();
    return next;
  }, `a sign-in mail to ${to}`);
  read.add(mail);
  const code = /code: (\d{6})$/.exec(mail.parsed.subject!)![1]!;
  const link = /Sign in: (\S+)/.exec(mail.parsed.text!)![1]!;
  return { code, token: new URL(link).searchParams.get('t')!, link, mail };
}

/** Requests a sign-in for `email` and completes it with the mailed code. */
async function signIn(email: string) {
  expect((await requestSignIn(email)).__typename).toBe('SignInRequested');
  const { code } = await mailTo(email);
  const session = await complete({ email, code });
  expect(session.__typename).toBe('AuthSession');
  return session;
}

/** Runs `fn` with the sign-in clock moved `minutes` ahead. */
async function later<T>(minutes: number, fn: () => Promise<T>): Promise<T> {
  t.app.services.signIn.now = () => new Date(Date.now() + minutes * 60_000);
  try {
    return await fn();
  } finally {
    t.app.services.signIn.now = () => new Date();
  }
}

describe('requestSignIn + completeSignIn over SMTP', () => {
  it('mails a code and a link; the code signs in once, and then the link of the same mail is used up too', async () => {
    const email = 'ada.code@mail.example';
    const answer = await requestSignIn('Ada.Code@Mail.example');
    expect(answer.__typename).toBe('SignInRequested');
    const { code, token, link, mail } = await mailTo(email);
    expect(link).toMatch(/^https:\/\/book\.example\/sign-in\?t=si_[\w-]+$/);
    expect(mail.parsed.text).toContain(`Your sign-in code is ${code}.`);
    expect(String(mail.parsed.html)).toContain(`href="${link}"`);

    const session = await complete({ email: 'ADA.code@mail.example', code });
    expect(session.user).toEqual({ email, roles: ['user'] });
    expect(session.refreshToken).toMatch(/^rt_/);
    expect(expectNoErrors(await t.execute('query { me { email roles } }', {}, { token: session.accessToken })).me).toEqual({
      email,
      roles: ['user'],
    });

    expect(await complete({ email, code })).toMatchObject({ __typename: 'SignInInvalidError', code: 'SIGN_IN_INVALID', reason: 'USED' });
    expect(await complete({ token })).toMatchObject({ __typename: 'SignInInvalidError', reason: 'USED' });
    // Only hashes are stored: neither the code nor the token is in the table.
    const rows = await t.app.db.sql.query<{ row: string }>(`SELECT row_to_json(r)::text AS row FROM sign_in_requests r`);
    expect(rows.map((r) => r.row).join('\n')).not.toMatch(new RegExp(`${code}|${token}|${email}`));
  });

  it('the link alone signs in once', async () => {
    const email = 'link.only@mail.example';
    await requestSignIn(email);
    const { token } = await mailTo(email);
    const session = await complete({ token });
    expect(session).toMatchObject({ __typename: 'AuthSession', user: { email } });
    expect(await complete({ token })).toMatchObject({ reason: 'USED' });
    // A token given with another address is refused.
    await requestSignIn(email);
    const second = await mailTo(email);
    expect(await complete({ token: second.token, email: 'someone.else@mail.example' })).toMatchObject({ reason: 'INVALID' });
    expect((await complete({ token: second.token, email })).__typename).toBe('AuthSession');
  });

  it(`code and link expire after SIGN_IN_CODE_TTL_MINUTES (${CODE_TTL_MINUTES})`, async () => {
    const email = 'late@mail.example';
    await requestSignIn(email);
    const { code, token } = await mailTo(email);
    await later(CODE_TTL_MINUTES + 1, async () => {
      expect(await complete({ email, code })).toMatchObject({ reason: 'EXPIRED' });
      expect(await complete({ token })).toMatchObject({ reason: 'EXPIRED' });
    });
    // Just before the end it still works.
    await requestSignIn(email);
    const fresh = await mailTo(email);
    expect((await later(CODE_TTL_MINUTES - 1, () => complete({ email, code: fresh.code }))).__typename).toBe('AuthSession');
  });

  it(`locks the request after ${MAX_CODE_ATTEMPTS} wrong codes, even for the right one`, async () => {
    const email = 'guesser@mail.example';
    await requestSignIn(email);
    const { code, token } = await mailTo(email);
    const wrong = code === '000000' ? '000001' : '000000';
    for (let i = 0; i < MAX_CODE_ATTEMPTS; i++) expect(await complete({ email, code: wrong })).toMatchObject({ reason: 'INVALID' });
    expect(await complete({ email, code })).toMatchObject({ reason: 'TOO_MANY_ATTEMPTS' });
    expect(await complete({ token })).toMatchObject({ reason: 'TOO_MANY_ATTEMPTS' });
  });

  it('bad input is a ValidationError naming the field', async () => {
    expect(await requestSignIn('not-an-email')).toEqual({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'email'] }] });
    expect((await complete({ code: '123456' })).fieldErrors).toEqual([{ path: ['input', 'email'] }]);
    expect((await complete({ email: 'a@b.example', code: '12345' })).fieldErrors).toEqual([{ path: ['input', 'code'] }]);
    expect((await complete({ email: 'a@b.example' })).fieldErrors).toEqual([{ path: ['input', 'code'] }, { path: ['input', 'token'] }]);
  });
});

describe('sign-in requests are rate limited', () => {
  it('per email address (3 an hour here): the 4th gets SignInRateLimitedError and no mail', async () => {
    const email = 'busy@mail.example';
    for (let i = 0; i < 3; i++) expect((await requestSignIn(email)).__typename).toBe('SignInRequested');
    const limited = await requestSignIn(email);
    expect(limited).toMatchObject({ __typename: 'SignInRateLimitedError', code: 'RATE_LIMITED' });
    expect(limited.retryAfterSeconds).toBeGreaterThan(0);
    expect(limited.retryAfterSeconds).toBeLessThanOrEqual(3600);
    const queued = await t.app.db.sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM outbox_messages WHERE kind = 'sign-in' AND recipient_hash = $1`,
      [(await import('../shared/pii.js')).pii().emailHash(email)],
    );
    expect(queued[0]!.n).toBe(3);
  });

  it('per client address (6 an hour here), whichever addresses it asks for', async () => {
    const client = newClient();
    for (let i = 0; i < 6; i++) expect((await requestSignIn(`spray${i}@mail.example`, client)).__typename).toBe('SignInRequested');
    expect((await requestSignIn('spray-last@mail.example', client)).__typename).toBe('SignInRateLimitedError');
    expect((await requestSignIn('spray-last@mail.example')).__typename).toBe('SignInRequested');
  });

  it('answers the same for an address with an account and one without', async () => {
    await t.tokenFor(['manager'], 'known.staff@clinic.example');
    const known = await requestSignIn('known.staff@clinic.example');
    const unknown = await requestSignIn('nobody.yet@mail.example');
    expect(Object.keys(known)).toEqual(Object.keys(unknown));
    expect([known.__typename, unknown.__typename]).toEqual(['SignInRequested', 'SignInRequested']);
    // Both get their mail: an unknown address becomes a user when it signs in.
    await mailTo('known.staff@clinic.example');
    await mailTo('nobody.yet@mail.example');
  });
});

describe('refresh tokens', () => {
  it('rotate on use; a spent one shown again revokes the whole family', async () => {
    const first = await signIn('rotator@mail.example');
    const second = await refresh(first.refreshToken);
    expect(second.__typename).toBe('AuthSession');
    expect(second.refreshToken).not.toBe(first.refreshToken);
    const third = await refresh(second.refreshToken);
    expect(third.__typename).toBe('AuthSession');

    expect(await refresh(first.refreshToken)).toMatchObject({ __typename: 'RefreshTokenInvalidError', reason: 'REUSED' });
    expect(await refresh(third.refreshToken)).toMatchObject({ reason: 'REVOKED' });
    expect(await refresh('rt_unknown')).toMatchObject({ reason: 'UNKNOWN' });
    // Another sign-in of the same user is its own family and keeps working.
    const other = await signIn('rotator@mail.example');
    expect((await refresh(other.refreshToken)).__typename).toBe('AuthSession');
  });

  it('20 concurrent refreshes with one token: exactly one succeeds, and the reuse revokes its family', async () => {
    const session = await signIn('racer@mail.example');
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(session.refreshToken)));
    const won = results.filter((r) => r.__typename === 'AuthSession');
    expect(won).toHaveLength(1);
    expect(results.filter((r) => r.reason === 'REUSED')).toHaveLength(19);
    const rows = await t.app.db.sql.query<{ total: number; live: number }>(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE revoked_at IS NULL)::int AS live FROM refresh_tokens r
       JOIN users u ON u.id = r.user_id WHERE u.email = 'racer@mail.example'`,
    );
    expect(rows[0]).toEqual({ total: 2, live: 0 });
    expect(await refresh(won[0].refreshToken)).toMatchObject({ reason: 'REVOKED' });
  });

  it(`expire after REFRESH_TOKEN_TTL_DAYS; signOut revokes`, async () => {
    const session = await signIn('leaver@mail.example');
    expect(await later(31 * 24 * 60, () => refresh(session.refreshToken))).toMatchObject({ reason: 'EXPIRED' });
    expect(await call(t, SIGN_OUT, { refreshToken: session.refreshToken })).toEqual({ __typename: 'SignedOut', revoked: 1 });
    expect(await refresh(session.refreshToken)).toMatchObject({ reason: 'REVOKED' });
  });

  it('signOut everywhere ends every session of the user', async () => {
    const a = await signIn('everywhere@mail.example');
    const b = await signIn('everywhere@mail.example');
    expect(await call(t, SIGN_OUT, { refreshToken: a.refreshToken, everywhere: true })).toEqual({ __typename: 'SignedOut', revoked: 2 });
    expect(await refresh(b.refreshToken)).toMatchObject({ reason: 'REVOKED' });
  });
});

describe('a signed-in customer manages the bookings made with their email', () => {
  it('myBookings lists exactly theirs; they cancel one, propose a new time for another and move it, without a manage link', async () => {
    const book = async (startAt: string, email: string) =>
      (await call(t, BOOK, { slotId: gid('Slot', await c.slot(startAt)), customer: { name: 'Grace Hopper', email } })).booking;
    const mine = [await book('2055-06-02T14:00:00Z', 'Grace.Signin@Mail.example'), await book('2055-06-03T14:00:00Z', 'grace.signin@mail.example')];
    await book('2055-06-04T14:00:00Z', 'someone.else@mail.example');
    const alternative = await c.slot('2055-06-05T14:00:00Z');

    const { accessToken } = await signIn('grace.signin@mail.example');
    const listed = expectNoErrors(await t.execute(MY_BOOKINGS, {}, { token: accessToken })).myBookings.data;
    expect(listed.map((b: { id: string }) => b.id)).toEqual(mine.map((b) => b.id));

    const cancelled = await call(t, CANCEL, { bookingId: mine[0]!.id }, { token: accessToken });
    expect(cancelled).toMatchObject({ __typename: 'Booking', status: 'CANCELLED' });
    const proposal = await call(
      t,
      `mutation ($input: ProposeRescheduleInput!) { proposeReschedule(input: $input) { __typename ... on Proposal { status proposedBy } } }`,
      { bookingId: mine[1]!.id, slotId: gid('Slot', alternative) },
      { token: accessToken },
    );
    expect(proposal).toEqual({ __typename: 'Proposal', status: 'PENDING', proposedBy: 'GUEST' });
    const moved = await call(
      t,
      RESCHEDULE,
      { bookingId: mine[1]!.id, slotId: gid('Slot', await c.slot('2055-06-07T14:00:00Z')) },
      { token: accessToken },
    );
    expect(moved).toMatchObject({ __typename: 'Booking', status: 'CONFIRMED', startAt: '2055-06-07T14:00:00.000Z' });

    // Someone else's booking stays out of reach: NotFound, as for an unknown id.
    const others = await t.app.db.sql.query<{ id: string }>(`SELECT id FROM bookings WHERE start_at = '2055-06-04T14:00:00Z'`);
    expect((await call(t, CANCEL, { bookingId: gid('Booking', others[0]!.id) }, { token: accessToken })).__typename).toBe('NotFoundError');
    const status = await t.app.db.sql.query<{ id: string; status: string }>(`SELECT id, status::text AS status FROM bookings ORDER BY start_at`);
    expect(status.map((s) => s.status)).toEqual(['CANCELLED', 'CONFIRMED', 'CONFIRMED']);
    expect(decodeGlobalID(mine[1]!.id).id).toBe(status[2]!.id);
    expect(decodeGlobalID(mine[0]!.id).id).toBe(status[0]!.id);
  });
});

describe('staff and other identities', () => {
  it('staff sign in the same way and get the roles of their user', async () => {
    await t.tokenFor(['manager', 'frontdesk'], 'desk.lead@clinic.example');
    const session = await signIn('desk.lead@clinic.example');
    expect(session.user.roles).toEqual(['manager', 'frontdesk']);
    const me = expectNoErrors(await t.execute('query { me { roles } bookings(first: 1) { __typename } }', {}, { token: session.accessToken }));
    expect(me).toEqual({ me: { roles: ['manager', 'frontdesk'] }, bookings: { __typename: 'BookingConnection' } });
  });

  it('JWTs signed with JWT_SECRET (an identity provider or the CLI) keep working beside sign-in tokens', async () => {
    const jwt = await t.app.services.auth.issueJwt({ email: 'idp.user@corp.example', roles: ['scheduler'] });
    expect(expectNoErrors(await t.execute('query { me { email roles } }', {}, { token: jwt })).me).toEqual({
      email: 'idp.user@corp.example',
      roles: ['scheduler'],
    });
  });

  it('a tampered or foreign-keyed sign-in token is refused', async () => {
    const { accessToken } = await signIn('tamper@mail.example');
    const [header, payload, signature] = accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forged = [header, Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url'), signature].join('.');
    const response = await t.execute('query { me { roles } }', {}, { token: forged });
    expect(response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('GET /.well-known/jwks.json', () => {
  it('publishes the public key; node:crypto alone verifies an access token with it', async () => {
    const response = await fetch(`${server.url}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    const { keys } = (await response.json()) as { keys: Record<string, string>[] };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(keys[0]).not.toHaveProperty('d');

    const { accessToken, user } = await signIn('jwks.check@mail.example');
    const [header, payload, signature] = accessToken.split('.') as [string, string, string];
    const protectedHeader = JSON.parse(Buffer.from(header, 'base64url').toString());
    expect(protectedHeader).toEqual({ alg: 'ES256', typ: 'JWT', kid: keys[0]!.kid });
    const key = createPublicKey({ key: keys[0]!, format: 'jwk' });
    const valid = (h: string, p: string) =>
      verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
    expect(valid(header, payload)).toBe(true);
    expect(valid(header, Buffer.from(JSON.stringify({ forged: true })).toString('base64url'))).toBe(false);

    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    expect(claims).toMatchObject({ iss: 'https://book.example', aud: 'https://book.example', email: user.email, roles: ['user'] });
    expect(claims.exp - claims.iat).toBe(600);
    // The generated key is shared by every instance through the database, its private half encrypted.
    const stored = await t.app.db.sql.query<{ kid: string; private_key: string }>(`SELECT kid, private_key FROM signing_keys`);
    expect(stored.map((s) => s.kid)).toEqual([keys[0]!.kid]);
    expect(stored[0]!.private_key).toMatch(/^v2\./);
  });
});

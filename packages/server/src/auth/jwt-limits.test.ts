import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApp, expectNoErrors, TEST_SECRETS, type TestApp } from '../../test/kit/app.js';

/** JWT lifetime, nbf, skew and the error text; API tokens made with a JWT expire in time. */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ config: { JWT_MAX_LIFETIME_SECONDS: '3600', JWT_CLOCK_SKEW_SECONDS: '30', JWT_API_TOKEN_MAX_DAYS: '7' } });
});
afterAll(() => t.close());

const secret = new TextEncoder().encode(TEST_SECRETS.JWT_SECRET);
const now = () => Math.floor(Date.now() / 1000);
const jwt = (claims: { exp?: number; nbf?: number; iat?: number }) => {
  let token = new SignJWT({ email: 'claims@example.com', roles: ['admin'] }).setProtectedHeader({ alg: 'HS256' });
  if (claims.iat !== undefined) token = token.setIssuedAt(claims.iat);
  if (claims.exp !== undefined) token = token.setExpirationTime(claims.exp);
  if (claims.nbf !== undefined) token = token.setNotBefore(claims.nbf);
  return token.sign(secret);
};

async function me(token: string) {
  const response = await t.app.yoga.fetch('http://slotwise.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ me { email roles } }' }),
  });
  return { status: response.status, text: await response.text() };
}

describe('JWT claims', () => {
  it('refuses a JWT without exp (even with an admin role), one living longer than the maximum, and one not yet valid; all say "invalid token"', async () => {
    const refused = [
      await jwt({ iat: now() }), // no exp: would be valid forever
      await jwt({ iat: now(), exp: now() + 7200 }), // 2 h > JWT_MAX_LIFETIME_SECONDS
      await jwt({ exp: now() + 7200 }), // no iat: measured from now
      await jwt({ iat: now(), exp: now() + 600, nbf: now() + 120 }), // nbf beyond the skew
      await jwt({ iat: now() - 7200, exp: now() - 60 }), // expired beyond the skew
      'not.a.jwt',
    ];
    for (const token of refused) {
      const { status, text } = await me(token);
      expect(status).toBe(401);
      const body = JSON.parse(text);
      expect(body.errors).toEqual([{ message: 'invalid token', extensions: { code: 'UNAUTHENTICATED' } }]);
      // No library wording reaches the client.
      expect(text).not.toMatch(/claim|jws|jwt|signature|timestamp|"exp"|nbf/i);
    }
  });

  it('accepts exp within the maximum, and nbf / exp within the clock skew', async () => {
    for (const token of [
      await jwt({ iat: now(), exp: now() + 3600 }),
      await jwt({ iat: now(), exp: now() + 600, nbf: now() + 10 }),
      await jwt({ iat: now() - 3000, exp: now() - 10 }),
    ]) {
      const { status, text } = await me(token);
      expect(status).toBe(200);
      expect(JSON.parse(text).data.me).toEqual({ email: 'claims@example.com', roles: ['admin'] });
    }
  });
});

describe('a JWT seen before (verified once, then remembered by its text)', () => {
  it('stops working at its exp (beyond the skew); HS384 and HS512 work too; a changed signature is refused', async () => {
    const token = await jwt({ iat: now(), exp: now() + 600 });
    expect((await me(token)).status).toBe(200);
    expect((await me(token)).status).toBe(200);
    const [head, body, signature] = token.split('.');
    const forged = `${head}.${body}.${signature!.slice(0, -2)}${signature!.endsWith('AA') ? 'BB' : 'AA'}`;
    expect((await me(forged)).status).toBe(401);
    for (const alg of ['HS384', 'HS512']) {
      const other = await new SignJWT({ email: 'claims@example.com', roles: ['admin'] })
        .setProtectedHeader({ alg })
        .setIssuedAt()
        .setExpirationTime(now() + 600)
        .sign(secret);
      expect((await me(other)).status).toBe(200);
    }
    vi.useFakeTimers({ now: Date.now() + 625_000, toFake: ['Date'] });
    try {
      expect((await me(token)).status).toBe(200); // within the 30 s of skew
      vi.setSystemTime(Date.now() + 10_000);
      const { status, text } = await me(token);
      expect(status).toBe(401);
      expect(JSON.parse(text).errors).toEqual([{ message: 'invalid token', extensions: { code: 'UNAUTHENTICATED' } }]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('API tokens created with a JWT', () => {
  const CREATE = `mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) {
    __typename ... on CreatedApiToken { apiToken { expiresAt } } ... on ValidationError { fieldErrors { path message } } } }`;

  it('expire after JWT_API_TOKEN_MAX_DAYS by default; a later expiry is refused on input.expiresAt, nothing created', async () => {
    const token = await jwt({ iat: now(), exp: now() + 600 });
    const before = Date.now();
    const made = expectNoErrors(await t.execute(CREATE, { input: { name: 'ci' } }, { token })).createApiToken;
    const expiresAt = new Date(made.apiToken.expiresAt).getTime();
    expect(expiresAt).toBeGreaterThanOrEqual(before + 7 * 86_400_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 7 * 86_400_000);

    const count = await t.app.db.prisma.apiToken.count();
    const late = new Date(Date.now() + 8 * 86_400_000).toISOString();
    const refused = expectNoErrors(await t.execute(CREATE, { input: { name: 'too long', expiresAt: late } }, { token })).createApiToken;
    expect(refused).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['input', 'expiresAt'], message: expect.stringContaining('7 days') }],
    });
    expect(await t.app.db.prisma.apiToken.count()).toBe(count);

    // An API-token user (an admin's CLI token) is not limited this way.
    const unlimited = expectNoErrors(await t.execute(CREATE, { input: { name: 'no expiry' } }, { token: t.adminToken })).createApiToken;
    expect(unlimited.apiToken.expiresAt).toBeNull();
  });
});

import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createTestApp, expectNoErrors } from '../../test/kit/app.js';
import { ConfigError, loadConfig } from '../config.js';
import type { SqlRunner } from '../db/database.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Slotwise } from '../app.js';
import { jwksRoute } from './jwks-route.js';
import { SigningKeys } from './signing-keys.js';

/** HS256 and JWT_PRIVATE_KEY never touch the database (only a generated key pair is stored). */
const noDatabase = {} as SqlRunner;
const SECRET = 'a-secret-that-is-long-enough-for-hs256-0123';
const base = { PORT: 4000, PUBLIC_URL: 'https://book.example', JWT_SIGNING_ALG: undefined, JWT_PRIVATE_KEY: undefined, JWT_SECRET: undefined };
const NOW = new Date();

describe('SigningKeys', () => {
  it('signs with JWT_SECRET (HS256) by default and publishes no keys', async () => {
    const keys = new SigningKeys({ ...base, JWT_SECRET: SECRET });
    await keys.init(noDatabase);
    expect(keys.alg).toBe('HS256');
    expect(keys.jwks()).toBeNull();
    const { token } = await keys.sign({ sub: 'u1', email: 'a@b.example', roles: ['user'], sid: 's1' }, 60, NOW);
    expect(await keys.verify(token, 0)).toMatchObject({ sub: 'u1', iss: 'https://book.example', aud: 'https://book.example' });
    const other = new SigningKeys({ ...base, JWT_SECRET: SECRET.replace('a-', 'b-') });
    await other.init(noDatabase);
    await expect(other.verify(token, 0)).rejects.toThrow();
  });

  it('JWT_PRIVATE_KEY (RS256, line breaks written as \\n): JWKS with its thumbprint kid; node:crypto verifies', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().replace(/\n/g, '\\n');
    const keys = new SigningKeys({ ...base, JWT_SIGNING_ALG: 'RS256', JWT_PRIVATE_KEY: pem });
    await keys.init(noDatabase);
    const [jwk] = keys.jwks()!.keys;
    expect(jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.stringMatching(/^[\w-]{43}$/) });
    expect(jwk).not.toHaveProperty('d');
    const { token } = await keys.sign({ sub: 'u1', email: 'a@b.example', roles: ['admin'], sid: 's1' }, 60, NOW);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'JWT', kid: jwk!.kid });
    expect(
      verify(
        'RSA-SHA256',
        Buffer.from(`${header}.${payload}`),
        createPublicKey({ key: jwk as never, format: 'jwk' }),
        Buffer.from(signature, 'base64url'),
      ),
    ).toBe(true);
  });

  it('refuses a token past its exp and one of another issuer', async () => {
    const keys = new SigningKeys({ ...base, JWT_SECRET: SECRET });
    await keys.init(noDatabase);
    const old = await keys.sign({ sub: 'u1', email: 'a@b.example', roles: [], sid: 's' }, 60, new Date(Date.now() - 120_000));
    await expect(keys.verify(old.token, 30)).rejects.toThrow(/exp/);
    const elsewhere = new SigningKeys({ ...base, JWT_SECRET: SECRET, PUBLIC_URL: 'https://other.example' });
    await elsewhere.init(noDatabase);
    const foreign = await elsewhere.sign({ sub: 'u1', email: 'a@b.example', roles: [], sid: 's' }, 60, NOW);
    await expect(keys.verify(foreign.token, 0)).rejects.toThrow();
  });
});

describe('GET /.well-known/jwks.json', () => {
  it('is 404 with HS256: a shared secret is never published', async () => {
    const keys = new SigningKeys({ ...base, JWT_SECRET: SECRET });
    await keys.init(noDatabase);
    const route = jwksRoute({ services: { signingKeys: keys } } as unknown as Slotwise);
    const server = createServer(
      (req, res) => void route(req, res, new URL(req.url!, 'http://x')).then((handled) => handled || res.writeHead(418).end()),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      expect((await fetch(`${base}/.well-known/jwks.json`)).status).toBe(404);
      expect((await fetch(`${base}/.well-known/jwks.json`, { method: 'POST' })).status).toBe(405);
      expect((await fetch(`${base}/elsewhere`)).status).toBe(418);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('sign-in configuration', () => {
  const SECRETS = { ENCRYPTION_KEY: 'ab'.repeat(32), DATABASE_URL: 'postgres://db/slotwise' };
  const error = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error('accepted');
  };

  it('names the variable of a bad value', () => {
    expect(error({ JWT_PRIVATE_KEY: 'not a key' })).toBe('Invalid configuration: JWT_PRIVATE_KEY must be a PKCS#8 PEM private key');
    expect(error({ JWT_SIGNING_ALG: 'none' })).toMatch(/^Invalid configuration: JWT_SIGNING_ALG /);
    expect(error({ JWT_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----x' })).toBe(
      'Invalid configuration: JWT_PRIVATE_KEY needs JWT_SIGNING_ALG ES256, RS256 or EdDSA',
    );
    expect(error({ ...SECRETS, JWT_JWKS_URL: 'https://idp.example/jwks', JWT_SIGNING_ALG: 'HS256' })).toBe(
      'Invalid configuration: JWT_SIGNING_ALG HS256 needs JWT_SECRET',
    );
    expect(error({ REQUIRE_IDEMPOTENCY_KEY: 'yes' })).toMatch(/^Invalid configuration: REQUIRE_IDEMPOTENCY_KEY /);
    expect(error({ ACCESS_TOKEN_TTL_SECONDS: '10' })).toMatch(/^Invalid configuration: ACCESS_TOKEN_TTL_SECONDS /);
  });

  it('defaults: 15-minute access tokens, 30-day refresh tokens, 15-minute codes, keys optional', () => {
    expect(loadConfig({})).toMatchObject({
      ACCESS_TOKEN_TTL_SECONDS: 900,
      REFRESH_TOKEN_TTL_DAYS: 30,
      SIGN_IN_CODE_TTL_MINUTES: 15,
      SIGN_IN_REQUESTS_PER_EMAIL_PER_HOUR: 5,
      SIGN_IN_REQUESTS_PER_IP_PER_HOUR: 30,
      REQUIRE_IDEMPOTENCY_KEY: false,
    });
    // An identity provider's JWKS without JWT_SECRET: the server's own tokens use a generated ES256 pair.
    expect(new SigningKeys({ ...base, JWT_SECRET: undefined }).alg).toBe('ES256');
  });
});

describe('asymmetric tokens only (JWT_SIGNING_ALG ES256 on PostgreSQL, no JWT_SECRET)', () => {
  it('starts; its own tokens are accepted, and a JWT of any shared secret is not', async () => {
    const t = await createTestApp({ config: { JWT_SECRET: '', JWT_SIGNING_ALG: 'ES256' } });
    try {
      expect(t.app.config.JWT_SECRET).toBeUndefined();
      const user = await t.app.db.prisma.user.create({ data: { email: 'es.only@example.com', roles: ['manager'] } });
      const own = await t.app.services.signingKeys.sign({ sub: user.id, email: user.email, roles: ['manager'], sid: 'test' }, 600, new Date());
      expect(expectNoErrors(await t.execute('query { me { email roles } }', {}, { token: own.token })).me).toEqual({
        email: 'es.only@example.com',
        roles: ['manager'],
      });
      const hs256 = await new SignJWT({ email: 'intruder@example.com', roles: ['admin'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(SECRET));
      expect((await t.execute('query { me { email } }', {}, { token: hs256 })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    } finally {
      await t.close();
    }
  });
});

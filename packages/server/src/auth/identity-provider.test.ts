import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { readMailContent } from '../mail/outbox.js';

/**
 * The usual production set-up: an identity provider's JWKS (JWT_JWKS_URL, JWT_ISSUER) and no
 * JWT_SECRET. Its tokens keep working, and sign-in tokens (a generated ES256 pair) work beside them.
 */
let t: TestApp;
let idp: Server;
let idpKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  idpKey = pair.privateKey;
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'idp-1', alg: 'RS256' }] });
  idp = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(jwks));
  await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
  t = await createTestApp({
    config: { JWT_SECRET: '', JWT_JWKS_URL: `http://127.0.0.1:${(idp.address() as AddressInfo).port}/jwks`, JWT_ISSUER: 'https://idp.example' },
  });
});
afterAll(async () => {
  await t?.close();
  await new Promise((resolve) => idp?.close(resolve));
});

const ME = 'query { me { email roles } }';

describe('an identity provider and sign-in side by side', () => {
  it("the provider's tokens are verified against its JWKS, with its issuer", async () => {
    const token = await new SignJWT({ email: 'Staff@Corp.example', roles: ['manager'] })
      .setProtectedHeader({ alg: 'RS256', kid: 'idp-1' })
      .setIssuer('https://idp.example')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(idpKey);
    expect(expectNoErrors(await t.execute(ME, {}, { token })).me).toEqual({ email: 'staff@corp.example', roles: ['manager'] });
    const wrongIssuer = await new SignJWT({ email: 'x@corp.example' })
      .setProtectedHeader({ alg: 'RS256', kid: 'idp-1' })
      .setIssuer('https://evil.example')
      .setExpirationTime('5m')
      .sign(idpKey);
    expect((await t.execute(ME, {}, { token: wrongIssuer })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('a sign-in completes with an ES256 token of the server, accepted beside the provider', async () => {
    expect(t.app.services.signingKeys.alg).toBe('ES256');
    expectNoErrors(await t.execute(`mutation { requestSignIn(input: { email: "guest@mail.example" }) { __typename } }`));
    const [row] = await t.app.db.sql.query<{ content: string }>(`SELECT content FROM outbox_messages WHERE kind = 'sign-in'`);
    const code = /(\d{6})$/.exec(readMailContent(row!.content).subject)![1]!;
    const session = expectNoErrors(
      await t.execute(`mutation ($input: CompleteSignInInput!) { completeSignIn(input: $input) { ... on AuthSession { accessToken } } }`, {
        input: { email: 'guest@mail.example', code },
      }),
    ).completeSignIn;
    expect(JSON.parse(Buffer.from(session.accessToken.split('.')[0], 'base64url').toString()).alg).toBe('ES256');
    expect(expectNoErrors(await t.execute(ME, {}, { token: session.accessToken })).me).toEqual({ email: 'guest@mail.example', roles: ['user'] });
  });
});

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectNoErrors, TEST_SECRETS, type TestApp } from '../../test/kit/app.js';
import { hashToken } from './auth.service.js';

const ME = `{ me { email roles } }`;
const CREATE_USER = `mutation ($input: CreateUserInput!) {
  createUser(input: $input) {
    __typename
    ... on User { email roles }
    ... on ValidationError { fieldErrors { path message } }
  }
}`;
const CREATE_TOKEN = `mutation ($input: CreateApiTokenInput!) {
  createApiToken(input: $input) { __typename ... on CreatedApiToken { token apiToken { id name prefix } } }
}`;
const REVOKE = `mutation ($id: ID!) { revokeApiToken(id: $id) { __typename ... on ApiToken { revokedAt } } }`;

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

/** The raw HTTP answer, for status codes (t.execute returns only the body). */
async function post(query: string, authorization?: string) {
  const response = await t.app.yoga.fetch('http://slotwise.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: { extensions?: { code?: string } }[] } };
}

describe('authentication', () => {
  it('gives the public a null `me`', async () => {
    expect(expectNoErrors(await t.execute(ME))).toEqual({ me: null });
  });

  it('authenticates an API token, stores only its hash and records its use', async () => {
    const { token, user, apiToken } = await t.app.services.auth.ensureAdmin('Chief@Example.com');
    expect(token).toMatch(/^sw_/);
    expect(apiToken.lastUsedAt).toBeNull();

    expect(expectNoErrors(await t.execute(ME, {}, { token }))).toEqual({ me: { email: 'chief@example.com', roles: ['admin'] } });

    const rows = await t.app.db.sql.query('SELECT * FROM api_tokens WHERE user_id = $1', [user.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash).toBe(hashToken(token));
    expect(JSON.stringify(rows)).not.toContain(token.slice(10));
    expect(rows[0]!.last_used_at).toBeInstanceOf(Date);
  });

  it('refuses expired and revoked tokens with 401 UNAUTHENTICATED', async () => {
    const { token: expired, apiToken: expiredRow } = await t.app.services.auth.ensureAdmin('expired@example.com');
    await t.app.db.prisma.apiToken.update({ where: { id: expiredRow.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const { token: revoked, apiToken: revokedRow } = await t.app.services.auth.ensureAdmin('revoked@example.com');
    await t.app.db.prisma.apiToken.update({ where: { id: revokedRow.id }, data: { revokedAt: new Date() } });

    for (const token of [expired, revoked, 'sw_never-issued']) {
      const { status, body } = await post(ME, `Bearer ${token}`);
      expect(status).toBe(401);
      expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
  });

  it('accepts a JWT signed with the secret and refuses one signed with another', async () => {
    const jwt = await t.app.services.auth.issueJwt({ email: 'jwt-user@example.com', roles: ['manager'] });
    const me = expectNoErrors(await t.execute(ME, {}, { token: jwt })).me;
    expect(me.email).toBe('jwt-user@example.com');
    expect(me.roles).toEqual(['manager']);
    // The JWT's roles are what authorizes: a manager may create a location.
    const created = await t.execute(`mutation { createLocation(input: { name: "Via JWT", timeZone: "UTC" }) { __typename } }`, {}, { token: jwt });
    expect(expectNoErrors(created).createLocation.__typename).toBe('Location');

    const forged = await new SignJWT({ email: 'jwt-user@example.com', roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-that-is-long-enough-0123456789'));
    const { status, body } = await post(ME, `Bearer ${forged}`);
    expect(status).toBe(401);
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('authorization', () => {
  it('gives a user FORBIDDEN and the public UNAUTHENTICATED on an admin mutation', async () => {
    const input = { email: 'someone@example.com' };
    const asUser = await t.execute(CREATE_USER, { input }, { token: await t.tokenFor(['user']) });
    expect(asUser.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const asPublic = await t.execute(CREATE_USER, { input });
    expect(asPublic.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await t.app.db.prisma.user.count({ where: { email: input.email } })).toBe(0);
  });

  it('lets an admin create a user and rejects a bad email on its field, writing nothing', async () => {
    const ok = expectNoErrors(await t.execute(CREATE_USER, { input: { email: 'New@Example.com', roles: ['frontdesk'] } }, { token: t.adminToken }));
    expect(ok.createUser).toEqual({ __typename: 'User', email: 'new@example.com', roles: ['frontdesk'] });

    const before = await t.app.db.prisma.user.count();
    const bad = expectNoErrors(await t.execute(CREATE_USER, { input: { email: 'not-an-email' } }, { token: t.adminToken }));
    expect(bad.createUser).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'email'] }] });
    expect(await t.app.db.prisma.user.count()).toBe(before);
  });
});

describe('API tokens through the API', () => {
  it('shows the secret once, lists only the prefix, and revokes', async () => {
    const owner = await t.tokenFor(['user']);
    const created = expectNoErrors(await t.execute(CREATE_TOKEN, { input: { name: 'laptop' } }, { token: owner })).createApiToken;
    expect(created.token).toMatch(/^sw_/);
    expect(created.apiToken.prefix).toBe(created.token.slice(0, 10));

    const listed = expectNoErrors(await t.execute(`{ myApiTokens { id name prefix } }`, {}, { token: created.token }));
    expect(listed.myApiTokens).toContainEqual({ id: created.apiToken.id, name: 'laptop', prefix: created.apiToken.prefix });
    expect(JSON.stringify(listed)).not.toContain(created.token);

    const revoked = expectNoErrors(await t.execute(REVOKE, { id: created.apiToken.id }, { token: owner }));
    expect(revoked.revokeApiToken.revokedAt).toEqual(expect.any(String));
    expect((await post(ME, `Bearer ${created.token}`)).status).toBe(401);
  });

  it("cannot revoke someone else's token unless admin", async () => {
    const victim = expectNoErrors(await t.execute(CREATE_TOKEN, { input: { name: 'victim' } }, { token: await t.tokenFor(['user']) })).createApiToken;
    const other = await t.tokenFor(['manager']);
    const refused = expectNoErrors(await t.execute(REVOKE, { id: victim.apiToken.id }, { token: other }));
    expect(refused.revokeApiToken.__typename).toBe('NotFoundError');
    expect(expectNoErrors(await t.execute(ME, {}, { token: victim.token })).me).not.toBeNull();

    const byAdmin = expectNoErrors(await t.execute(REVOKE, { id: victim.apiToken.id }, { token: t.adminToken }));
    expect(byAdmin.revokeApiToken.__typename).toBe('ApiToken');
    expect((await post(ME, `Bearer ${victim.token}`)).status).toBe(401);
  });
});

describe('slotwise admin create', () => {
  it('node(id) shows an account and its tokens to their owner and admins only, not to other signed-in callers', async () => {
    const ownerToken = await t.tokenFor(['manager'], 'node.owner@example.com');
    const created = expectNoErrors(await t.execute(CREATE_TOKEN, { input: { name: 'mine' } }, { token: ownerToken })).createApiToken;
    const { id: userId } = await t.app.db.prisma.user.findUniqueOrThrow({ where: { email: 'node.owner@example.com' } });
    const userGid = Buffer.from(`User:${userId}`).toString('base64');
    const NODE = `query ($u: ID!, $k: ID!) { user: node(id: $u) { ... on User { email } } token: node(id: $k) { ... on ApiToken { name } } }`;
    const read = async (token: string) => expectNoErrors(await t.execute(NODE, { u: userGid, k: created.apiToken.id }, { token }));
    const seen = { user: { email: 'node.owner@example.com' }, token: { name: 'mine' } };
    expect(await read(ownerToken)).toEqual(seen);
    expect(await read(t.adminToken)).toEqual(seen);
    for (const roles of [['user'], ['frontdesk'], ['manager']] as const)
      expect(await read(await t.tokenFor([...roles]))).toEqual({ user: null, token: null });
  });

  it('prints a token once, and that token authenticates', async () => {
    const cwd = fileURLToPath(new URL('../..', import.meta.url));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'admin', 'create', '--email', 'boss@example.com'],
      {
        cwd,
        env: { PATH: process.env.PATH, DATABASE_URL: t.databaseUrl, ...TEST_SECRETS, LOG_LEVEL: 'silent' },
      },
    );
    const tokens = stdout.match(/sw_[\w-]+/g) ?? [];
    expect(tokens).toHaveLength(1);
    const me = expectNoErrors(await t.execute(ME, {}, { token: tokens[0] }));
    expect(me.me).toEqual({ email: 'boss@example.com', roles: ['admin'] });
  }, 60_000);

  it('admin create reads --email as createUser does: padded, it promotes the same user; not an address, one line and exit 2', async () => {
    const cwd = fileURLToPath(new URL('../..', import.meta.url));
    const cli = (email: string) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'admin', 'create', '--email', email], {
        cwd,
        env: { PATH: process.env.PATH, DATABASE_URL: t.databaseUrl, ...TEST_SECRETS, LOG_LEVEL: 'silent' },
      });
    await t.tokenFor(['manager'], 'padded.manager@example.com');
    expect((await cli(' Padded.Manager@Example.com ')).stdout).toContain('admin padded.manager@example.com (manager, admin)');
    expect(await t.app.db.prisma.user.count({ where: { email: { contains: 'padded.manager' } } })).toBe(1);
    const refused = await cli('not an email').catch((err: { code: number; stderr: string }) => err);
    expect(refused).toMatchObject({ code: 2, stderr: '--email must be an email address\n' });
  }, 60_000);
});

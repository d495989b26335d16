import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { AuthService } from './auth.service.js';

// A new identity-provider user often opens an app that fires several requests at once.
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t?.close());

describe('the first requests of a new JWT user', () => {
  it('arrive together and all succeed; the user is created once', async () => {
    const email = `first-${Date.now()}@idp.example`;
    const token = await t.app.services.auth.issueJwt({ email, roles: ['user'] });
    const responses = await Promise.all(Array.from({ length: 20 }, () => t.execute('query { myBookings { __typename } }', {}, { token })));
    expect(responses.filter((r) => r.errors?.length)).toEqual([]);
    const rows = await t.app.db.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE email = $1', [email]);
    expect(rows[0]!.n).toBe(1);
  });

  it('create the user once across processes too (two services on one database, racing)', async () => {
    const email = `race-${Date.now()}@idp.example`;
    const token = await t.app.services.auth.issueJwt({ email, roles: ['user'] });
    // Each AuthService stands for another process: it shares no in-memory state with the others.
    const services = Array.from({ length: 8 }, () => new AuthService(t.app.db.prisma, t.app.config));
    const actors = await Promise.all(services.map((s) => s.authenticate(`Bearer ${token}`)));
    expect(new Set(actors.map((a) => a!.userId)).size).toBe(1);
    const rows = await t.app.db.sql.query<{ id: string }>('SELECT id::text FROM users WHERE email = $1', [email]);
    expect(rows.map((r) => r.id)).toEqual([actors[0]!.userId]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { startServer, type RunningServer } from '../server.js';

/** CORS_ORIGINS, GRAPHIQL, INTROSPECTION and METRICS_TOKEN against real HTTP servers. */
const METRICS_TOKEN = 'metrics-token-0123456789';
let open: TestApp;
let strict: TestApp;
let openServer: RunningServer;
let strictServer: RunningServer;
beforeAll(async () => {
  // The harness runs on PostgreSQL (DATABASE_URL set): production defaults, GraphiQL and introspection off.
  open = await createTestApp();
  strict = await createTestApp({ config: { CORS_ORIGINS: 'https://shop.example', METRICS_TOKEN, GRAPHIQL: 'true', INTROSPECTION: 'true' } });
  openServer = await startServer(open.app, { port: 0, host: '127.0.0.1' });
  strictServer = await startServer(strict.app, { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await openServer.stop();
  await strictServer.stop();
  await open.close();
  await strict.close();
});

const preflight = (url: string, origin: string) =>
  fetch(`${url}/graphql`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
  });

describe('exposure of the server', () => {
  it('CORS: any origin without credentials by default; a list allows only its origins', async () => {
    const any = await preflight(openServer.url, 'https://anywhere.example');
    expect(any.headers.get('access-control-allow-origin')).toMatch(/^(\*|https:\/\/anywhere\.example)$/);
    expect(any.headers.get('access-control-allow-credentials')).not.toBe('true');

    const listed = await preflight(strictServer.url, 'https://shop.example');
    expect(listed.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    const other = await preflight(strictServer.url, 'https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).not.toBe('*');
  });

  it('GraphiQL and introspection: off by default with DATABASE_URL, on when configured', async () => {
    const html = (url: string) => fetch(`${url}/graphql`, { headers: { accept: 'text/html' } });
    expect(await (await html(openServer.url)).text()).not.toContain('GraphiQL');
    expect(await (await html(strictServer.url)).text()).toContain('GraphiQL');

    const introspect = await open.execute('{ __schema { queryType { name } } }');
    expect(introspect.errors?.[0]?.message).toMatch(/introspection/i);
    expect((await open.execute('{ __type(name: "Slot") { name } }')).errors?.length).toBe(1);
    expect((await open.execute('{ __typename }')).data).toEqual({ __typename: 'Query' });
    expect((await strict.execute('{ __schema { queryType { name } } }')).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });

  it('METRICS_TOKEN: /metrics needs the bearer token when set', async () => {
    expect((await fetch(`${openServer.url}/metrics`)).status).toBe(200);
    expect((await fetch(`${strictServer.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${strictServer.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    const ok = await fetch(`${strictServer.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('slotwise_');
  });
});

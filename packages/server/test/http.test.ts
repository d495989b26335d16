import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { startServer, type RunningServer } from '../src/server.js';
import { createTestApp, type TestApp } from './kit/app.js';

/** Every JSON log line the app writes, in order. */
const logLines: Record<string, unknown>[] = [];
const logStream = new Writable({
  write(chunk, _encoding, done) {
    for (const line of String(chunk).split('\n')) if (line.trim()) logLines.push(JSON.parse(line));
    done();
  },
});

let t: TestApp;
let server: RunningServer;
beforeAll(async () => {
  t = await createTestApp({ logger: createLogger('info', logStream) });
  server = await startServer(t.app, { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server.stop();
  await t.close();
});

function graphql(query: string, headers: Record<string, string> = {}) {
  return fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
}

describe('health', () => {
  it('/healthz answers 200', async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('/readyz lists the database and migrations as ok', async () => {
    const response = await fetch(`${server.url}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, checks: { database: 'ok', migrations: 'ok' } });
  });

  it('/readyz answers 503 while a migration is pending', async () => {
    // The database falls behind the code: forget the newest applied migration, then put it back.
    const [latest] = await t.app.db.sql.query<Record<string, unknown>>('SELECT * FROM schema_migrations ORDER BY version DESC LIMIT 1');
    await t.app.db.sql.query('DELETE FROM schema_migrations WHERE version = $1', [latest!.version]);
    try {
      const response = await fetch(`${server.url}/readyz`);
      expect(response.status).toBe(503);
      const body = (await response.json()) as { ok: boolean; checks: Record<string, string> };
      expect(body.ok).toBe(false);
      expect(body.checks.database).toBe('ok');
      expect(body.checks.migrations).toMatch(/^pending: /);
    } finally {
      const columns = Object.keys(latest!);
      await t.app.db.sql.query(
        `INSERT INTO schema_migrations (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
        columns.map((c) => latest![c]),
      );
    }
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });
});

describe('X-Request-Id', () => {
  it.each(['/healthz', '/graphql'])('is echoed on %s when sent and generated when absent', async (path) => {
    const send = (headers: Record<string, string>) =>
      path === '/graphql' ? graphql('{ serverTime }', headers) : fetch(`${server.url}${path}`, { headers });
    const echoed = await send({ 'x-request-id': 'caller-chosen-id.1' });
    expect(echoed.headers.get('x-request-id')).toBe('caller-chosen-id.1');
    const generated = await send({});
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // A header that is not a sane id is replaced rather than echoed into logs.
    const replaced = await send({ 'x-request-id': 'bad id with spaces' });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('limits', () => {
  it('rejects a query deeper than 12', async () => {
    let selection = 'id';
    for (let i = 0; i < 7; i++) selection = `resources { location { ${selection} } }`;
    const body = (await (await graphql(`{ locations { ${selection} } }`)).json()) as { data?: unknown; errors?: { message: string }[] };
    expect(body.data ?? null).toBeNull();
    expect(body.errors?.[0]?.message).toMatch(/depth limit of 12/i);
  });

  it('rejects more than 30 aliases, of __typename too', async () => {
    for (const field of ['serverTime', '__typename']) {
      const aliases = Array.from({ length: 31 }, (_, i) => `a${i}: ${field}`).join(' ');
      const body = (await (await graphql(`{ ${aliases} }`)).json()) as { data?: unknown; errors?: { message: string }[] };
      expect(body.data ?? null).toBeNull();
      expect(body.errors?.[0]?.message).toMatch(/aliases limit of 30/i);
    }
  });
});

describe('errors and logs', () => {
  it('masks an unexpected error and logs it with the request id; every request log line carries its id', async () => {
    const from = logLines.length;
    // Something the code does not expect: the table it reads is gone.
    await t.app.db.sql.query('ALTER TABLE locations RENAME TO locations_away');
    try {
      const response = await graphql('{ locations { id } }', { 'x-request-id': 'req-broken-1' });
      const body = (await response.json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
      expect(body.errors?.[0]).toMatchObject({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      expect(JSON.stringify(body)).not.toMatch(/locations_away|relation|does not exist/);
    } finally {
      await t.app.db.sql.query('ALTER TABLE locations_away RENAME TO locations');
    }
    await graphql('{ locations { id } }', { 'x-request-id': 'req-fine-2' });

    // Background jobs log outside any request; everything else written meanwhile served one of ours.
    const written = logLines.slice(from).filter((line) => !('job' in line));
    expect(written).toContainEqual(expect.objectContaining({ level: 50, msg: 'unexpected error', requestId: 'req-broken-1' }));
    const withoutId = written.filter((line) => !['req-broken-1', 'req-fine-2'].includes(line.requestId as string));
    expect(withoutId).toEqual([]);
  });

  it('/metrics exposes the HTTP request counter', async () => {
    await fetch(`${server.url}/healthz`);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toContain('# TYPE slotwise_http_requests_total counter');
    expect(text).toMatch(/slotwise_http_requests_total\{route="\/healthz",status="200"\} [1-9]/);
  });
});

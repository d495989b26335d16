import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AvailabilityDocument, createClient, LocationsDocument, ServerClockDocument, SlotwiseError } from '../src/index.js';
import { startLiveServer, type LiveServer } from './live-server.js';
import { setUpScenario, type Scenario } from './scenario.js';

const manifest = JSON.parse(readFileSync(new URL('../src/generated/persisted-operations.json', import.meta.url), 'utf8')) as Record<string, string>;

let server: LiveServer;
let s: Scenario;
beforeAll(async () => {
  server = await startLiveServer({ config: { PERSISTED_OPERATIONS: 'only' } });
  s = await setUpScenario(server);
});
afterAll(() => server?.stop());

function post(body: unknown, token?: string) {
  return fetch(server.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
}

describe('persisted operations (PERSISTED_OPERATIONS=only)', () => {
  it('the manifest keys every SDK operation by the sha256 of the exact text the client sends', () => {
    expect(Object.keys(manifest).length).toBeGreaterThan(30);
    for (const [hash, text] of Object.entries(manifest)) expect(createHash('sha256').update(text).digest('hex')).toBe(hash);
    expect(Object.values(manifest)).toContain(String(AvailabilityDocument));
  });

  it('a public client sends hashes only and gets its answers, subscriptions included', async () => {
    const sent: string[] = [];
    const client = createClient({
      url: server.url,
      persistedOperations: true,
      transport: 'sse',
      fetch: (input, init) => (sent.push(String(init?.body)), fetch(input, init)),
    });
    const { locations } = await client.request(LocationsDocument);
    expect(locations.map((l) => l.id)).toContain(s.locationId);
    expect(sent.every((body) => !('query' in JSON.parse(body)) && JSON.parse(body).extensions.persistedQuery.sha256Hash)).toBe(true);
    const ticks = client.subscribe(ServerClockDocument, { intervalMs: 100 });
    expect(typeof (await ticks.next()).value?.serverTime).toBe('string');
    await ticks.return();
  });

  it('any other operation from a non-staff caller is refused with 403 PERSISTED_QUERY_ONLY; staff may send any', async () => {
    const other = { query: '{ locations { id name } }' };
    const refused = await post(other);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('PERSISTED_QUERY_ONLY');
    expect((await post(other, await server.tokenFor(['frontdesk']))).status).toBe(200);
    // The manifest's text itself is accepted too (TypedDocumentNode clients and graphql-ws send text).
    expect((await post({ query: String(LocationsDocument) })).status).toBe(200);
  });

  it('an unknown hash is PERSISTED_QUERY_NOT_FOUND, and the SDK throws it as a SlotwiseError', async () => {
    const response = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } } });
    expect(response.status).toBe(404);
    const client = createClient({ url: server.url, persistedOperations: true, retries: 0 });
    const fake = Object.assign(new String('query Fake { serverTime }'), { __apiType: undefined }) as unknown as typeof LocationsDocument;
    await expect(client.request(fake)).rejects.toBeInstanceOf(SlotwiseError);
  });
});

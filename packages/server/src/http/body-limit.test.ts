import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';

/** MAX_BODY_BYTES through useBodyLimit: Yoga's answers, without a stream per request (the chunked case is in abuse.test.ts). */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ config: { MAX_BODY_BYTES: '1024' } });
});
afterAll(() => t.close());

const post = (body: string, headers: Record<string, string> = {}) =>
  t.app.yoga.fetch('http://slotwise.test/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('request body limit', () => {
  it('answers a body within the limit, 413 for a Content-Length over it, 400 for a Content-Length that is not one number', async () => {
    const small = JSON.stringify({ query: '{ serverTime }' });
    expect((await post(small, { 'content-length': String(Buffer.byteLength(small)) })).status).toBe(200);
    const big = JSON.stringify({ query: '{ serverTime }', variables: { pad: 'x'.repeat(2000) } });
    const refused = await post(big, { 'content-length': String(Buffer.byteLength(big)) });
    expect(refused.status).toBe(413);
    expect((await refused.json()).errors[0].extensions.code).toBe('REQUEST_ENTITY_TOO_LARGE');
    const invalid = await post(small, { 'content-length': '12, 12' });
    expect(invalid.status).toBe(400);
    expect((await invalid.json()).errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  it('counts a body without Content-Length (a stream) while reading it', async () => {
    const streamed = (text: string) =>
      t.app.yoga.fetch('http://slotwise.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new ReadableStream({
          start(controller) {
            for (let i = 0; i < text.length; i += 256) controller.enqueue(new TextEncoder().encode(text.slice(i, i + 256)));
            controller.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
    expect((await streamed(JSON.stringify({ query: '{ serverTime }', variables: { pad: 'x'.repeat(2000) } }))).status).toBe(413);
    expect((await streamed(JSON.stringify({ query: '{ serverTime }' }))).status).toBe(200);
  });
});

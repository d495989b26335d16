import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { createLogger } from '../logger.js';
import { withoutValues } from './client-errors.js';

const logLines: Record<string, unknown>[] = [];
const logStream = new Writable({
  write(chunk, _encoding, done) {
    for (const line of String(chunk).split('\n')) if (line.trim()) logLines.push(JSON.parse(line));
    done();
  },
});

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ logger: createLogger('warn', logStream) });
});
afterAll(() => t?.close());

describe('client errors over HTTP', () => {
  it('log one warn line each with the request id and the codes, no stack trace', async () => {
    const cases = [
      'subscription { serverTime(',
      `query { ${Array.from({ length: 40 }, (_, i) => `a${i}: serverTime`).join(' ')} }`,
      'query { noSuchField }',
    ];
    for (const [i, query] of cases.entries()) {
      const response = await t.execute(query, undefined, { headers: { 'x-request-id': `client-error-${i}` } });
      expect(response.errors?.length).toBeGreaterThan(0);
    }
    const refused = logLines.filter((l) => l.msg === 'operation refused');
    expect(refused.map((l) => l.requestId)).toEqual(['client-error-0', 'client-error-1', 'client-error-2']);
    for (const line of refused) {
      expect(line.level).toBe(40);
      expect(line.codes).toEqual([expect.any(String)]);
      expect(JSON.stringify(line)).not.toMatch(/\bat .+:\d+:\d+/);
    }
    expect(logLines.filter((l) => (l.level as number) >= 50)).toEqual([]);
  });
});

describe('withoutValues', () => {
  it('keeps where and what went wrong, never the value a client sent', () => {
    expect(
      withoutValues(
        'Variable "$input" got invalid value { name: "Ada Lovelace", email: "ada@example.com" } at "input.customer"; Field "x" is not defined by type "CustomerInput".',
      ),
    ).toBe('Variable "$input" got invalid value at "input.customer"');
    expect(withoutValues('Variable "$input" got invalid value "ada@example.com"; Expected type "Int".')).toBe('Variable "$input" got invalid value');
    expect(withoutValues('String cannot represent a non string value: 442079460123')).toBe('String cannot represent a non string value: [value]');
    expect(withoutValues('Expected value of type "DateTime!", found "Ada"; bad date')).toBe('Expected value of type "DateTime!", found [value]');
    expect(withoutValues('Unexpected token \'A\', "Ada Lovelace" is not valid JSON')).toBe("Unexpected token 'A', [body] is not valid JSON");
    expect(withoutValues('Cannot query field "noSuchField" on type "Query".')).toBe('Cannot query field "noSuchField" on type "Query".');
  });
});

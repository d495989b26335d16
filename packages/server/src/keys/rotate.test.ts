import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectNoErrors, TEST_SECRETS, type TestApp } from '../../test/kit/app.js';
import { fixtures, customer, gid } from '../../test/kit/fixtures.js';
import { REGISTER, publishedForm } from '../../test/kit/forms.js';
import { renderBookingMail } from '../../test/kit/mail.js';
import { configurePii, Pii } from '../shared/pii.js';
import { ENCRYPTED_TABLES } from './keys.store.js';
import { rotateKeys } from './rotate.js';

// Key rotation for real: data written under k1, rotated to k2 in small batches (one run stopped
// half-way and resumed), then to k3 by the CLI; lookup hashes keep matching throughout.
const K1 = TEST_SECRETS.ENCRYPTION_KEY;
const K2 = '2b'.repeat(32);
const K3 = '3c'.repeat(32);
const ring2 = () => new Pii({ current: { id: 'k2', keyHex: K2 }, old: [{ id: 'k1', keyHex: K1 }], lookupKeyHex: K1 });

let t: TestApp;
const BOOKINGS = 7;
beforeAll(async () => {
  t = await createTestApp();
  const f = fixtures(t.app.db.sql);
  const locationId = await f.location();
  const resourceId = await f.resource(locationId);
  for (let i = 0; i < BOOKINGS; i++) {
    const slot = await f.slot(locationId, resourceId);
    const result = await t.execute(
      `mutation ($input: BookInput!) { book(input: $input) { __typename } }`,
      { input: { slotId: gid('Slot', slot), customer: customer(`rot${i}`), notes: `note ${i}` } },
      { headers: { 'idempotency-key': `rotate-${i}` } },
    );
    expect(expectNoErrors(result).book.__typename).toBe('BookingReceipt');
  }
  const form = await publishedForm(t);
  const registered = await t.execute(REGISTER, {
    input: { formId: form.id, name: 'Rota Tion', email: 'rota@example.com', answers: [{ question: 'Q', answer: 'A' }], slotIds: [form.slots[0]!.id] },
  });
  expect(expectNoErrors(registered).register.__typename).toBe('Registration');
  await renderBookingMail(t);
});
afterAll(() => t?.close());

/** Non-null values of every encrypted column, by the key id they are under (`plain` for anything else). */
async function keyIds(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of ENCRYPTED_TABLES) {
    for (const c of table.columns) {
      const value = c.kind === 'text' ? `"${c.name}"` : `"${c.name}"->>'sealed'`;
      const rows = await t.app.db.sql.query<{ kid: string; n: number }>(
        `SELECT coalesce(substring(${value} FROM '^v2\\.([A-Za-z0-9_-]+)\\.'), 'plain') AS kid, count(*)::int AS n
         FROM ${table.table} WHERE "${c.name}" IS NOT NULL AND "${c.name}"::text <> 'null' GROUP BY 1`,
      );
      for (const r of rows) counts[r.kid] = (counts[r.kid] ?? 0) + r.n;
    }
  }
  return counts;
}

const BOOKINGS_QUERY = `query ($email: String) { bookings(customerEmail: $email, first: 50) { ... on BookingConnection { totalCount edges { node { notes customer { name email phone } } } } } }`;

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../cli.ts', import.meta.url)), ...args], {
    env: { ...process.env, DATABASE_URL: t.databaseUrl, JWT_SECRET: TEST_SECRETS.JWT_SECRET, LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => (stdout += d));
  proc.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => proc.on('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('keys rotate', () => {
  it('re-encrypts every encrypted column in batches; a stopped run resumes; lookups keep matching', async () => {
    const before = await keyIds();
    expect(Object.keys(before)).toEqual(['k1']);
    const total = before.k1!;

    // Stopped after the second batch of bookings (each batch is its own transaction).
    let batches = 0;
    const stopped = rotateKeys(t.app.db.sql, ring2(), {
      batchSize: 2,
      onBatch: (table) => {
        if (table === 'bookings' && ++batches === 2) throw new Error('stopped');
      },
    });
    await expect(stopped).rejects.toThrow('stopped');
    // Two committed batches of two bookings, four encrypted values each (name, email, phone, note).
    expect(await keyIds()).toEqual({ k1: total - 16, k2: 16 });

    const reports = await rotateKeys(t.app.db.sql, ring2(), { batchSize: 2 });
    const byTable = Object.fromEntries(reports.map((r) => [r.table, r]));
    // 8 bookings (7 + the registration's), 4 already moved by the stopped run.
    expect(byTable.bookings).toMatchObject({ rows: 8 - 4, plaintext: 0, failed: [] });
    expect(byTable.registrations).toMatchObject({ rows: 1, values: 3, failed: [] });
    expect(byTable.outbox_messages!.rows).toBeGreaterThanOrEqual(8);
    expect(byTable.idempotency_records).toMatchObject({ rows: BOOKINGS, values: BOOKINGS });
    expect(await keyIds()).toEqual({ k2: total });
    // Nothing left: a third run changes nothing.
    expect((await rotateKeys(t.app.db.sql, ring2())).every((r) => r.rows === 0 && r.values === 0)).toBe(true);

    // The application with the new ring reads everything, and email lookups still match (hashes never rotate).
    configurePii({ current: { id: 'k2', keyHex: K2 }, lookupKeyHex: K1 });
    try {
      const found = expectNoErrors(await t.execute(BOOKINGS_QUERY, { email: 'CROT3@example.com' }, { token: t.adminToken })).bookings;
      expect(found.totalCount).toBe(1);
      expect(found.edges[0].node).toEqual({ customer: customer('rot3'), notes: 'note 3' });
    } finally {
      configurePii(K1);
    }
  });

  it('the CLI rotates for real, prints counts, and refuses (exit 1, nothing changed) when a key is missing', { timeout: 120_000 }, async () => {
    const env = { ENCRYPTION_KEY: K3, ENCRYPTION_KEY_ID: 'k3', ENCRYPTION_OLD_KEYS: `k1:${K1},k2:${K2}`, ENCRYPTION_LOOKUP_KEY: K1 };
    const before = await keyIds();
    const total = Object.values(before).reduce((a, b) => a + b, 0);
    const run = await cli(['keys', 'rotate', '--batch-size', '3'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('re-encrypting under key k3, 3 rows per transaction');
    expect(run.stdout).toMatch(/^bookings: 8 rows, \d+ values re-encrypted \(0 were plaintext\), 0 failed$/m);
    expect(run.stdout).toContain(`done: ${total} values re-encrypted, everything is under key k3`);
    expect(await keyIds()).toEqual({ k3: total });

    // k3 is not configured any more: every value fails, none is touched.
    const missing = await cli(['keys', 'rotate'], {
      ENCRYPTION_KEY: '4d'.repeat(32),
      ENCRYPTION_KEY_ID: 'k4',
      ENCRYPTION_OLD_KEYS: `k2:${K2}`,
      ENCRYPTION_LOOKUP_KEY: K1,
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not decrypted: bookings [0-9a-f-]+: customer_name \(encrypted with key "k3", which is not configured/);
    expect(await keyIds()).toEqual({ k3: total });

    const bad = await cli(['keys', 'rotate', '--batch-size', '0'], env);
    expect([bad.code, bad.stderr.trim()]).toEqual([2, '--batch-size must be a whole number from 1 to 10000']);
  });
});

import type { SqlQuery } from '../db/database.js';

/** How a column holds personal data: a ciphertext string, or a jsonb `{ "sealed": ciphertext }`. */
export type EncryptedColumnKind = 'text' | 'sealed-json';

export interface EncryptedTable {
  table: string;
  /** Primary key columns, in the order batches walk them. */
  key: string[];
  keyTypes: string[];
  columns: { name: string; kind: EncryptedColumnKind }[];
}

/**
 * Every column that holds personal data encrypted (src/shared/pii.ts). `keys rotate` walks these;
 * a new encrypted column belongs here too (the raw-table test in pii-at-rest.test.ts finds one that is missing).
 */
export const ENCRYPTED_TABLES: EncryptedTable[] = [
  {
    table: 'bookings',
    key: ['id'],
    keyTypes: ['uuid'],
    columns: [
      { name: 'customer_name', kind: 'text' },
      { name: 'customer_email', kind: 'text' },
      { name: 'customer_phone', kind: 'text' },
      { name: 'notes', kind: 'text' },
      { name: 'internal_notes', kind: 'text' },
    ],
  },
  {
    table: 'registrations',
    key: ['id'],
    keyTypes: ['uuid'],
    columns: [
      { name: 'name', kind: 'text' },
      { name: 'email', kind: 'text' },
      { name: 'phone', kind: 'text' },
      { name: 'answers', kind: 'sealed-json' },
    ],
  },
  {
    table: 'outbox_messages',
    key: ['id'],
    keyTypes: ['uuid'],
    columns: [
      { name: 'recipient', kind: 'text' },
      { name: 'content', kind: 'text' },
    ],
  },
  { table: 'proposals', key: ['id'], keyTypes: ['uuid'], columns: [{ name: 'note', kind: 'text' }] },
  {
    table: 'waitlist_entries',
    key: ['id'],
    keyTypes: ['uuid'],
    columns: [
      { name: 'customer_name', kind: 'text' },
      { name: 'customer_email', kind: 'text' },
      { name: 'customer_phone', kind: 'text' },
    ],
  },
  { table: 'webhook_endpoints', key: ['id'], keyTypes: ['uuid'], columns: [{ name: 'secret', kind: 'text' }] },
  { table: 'signing_keys', key: ['kid'], keyTypes: ['text'], columns: [{ name: 'private_key', kind: 'text' }] },
  { table: 'sign_in_requests', key: ['id'], keyTypes: ['uuid'], columns: [{ name: 'email', kind: 'text' }] },
  {
    table: 'imip_messages',
    key: ['id'],
    keyTypes: ['uuid'],
    columns: [
      { name: 'attendee', kind: 'text' },
      { name: 'raw_message', kind: 'text' },
    ],
  },
  // A JSON null response is a claim in progress: nothing to encrypt yet.
  { table: 'idempotency_records', key: ['key', 'actor'], keyTypes: ['text', 'text'], columns: [{ name: 'response', kind: 'sealed-json' }] },
];

/** A row of a batch: its key values and the columns' stored values. */
export type StoredRow = Record<string, unknown>;

/** True in SQL when the column holds something not yet written under the current key ($1 = 'v2.<kid>.'). */
function stale(column: { name: string; kind: EncryptedColumnKind }): string {
  const c = `"${column.name}"`;
  return column.kind === 'text'
    ? `(${c} IS NOT NULL AND left(${c}, length($1)) <> $1)`
    : `(${c} IS NOT NULL AND ${c} <> 'null'::jsonb AND coalesce(left(${c}->>'sealed', length($1)), '') <> $1)`;
}

/**
 * The next rows after `after` (a key, in key order) with a value not under the current key, locked
 * for this transaction. Rows written meanwhile by the application already use the current key.
 */
export async function staleRows(tx: SqlQuery, t: EncryptedTable, prefix: string, after: unknown[] | null, limit: number): Promise<StoredRow[]> {
  const keys = t.key.map((k) => `"${k}"`).join(', ');
  const cursor = after ? `AND (${keys}) > (${t.key.map((_, i) => `$${i + 3}::${t.keyTypes[i]}`).join(', ')})` : '';
  return tx.query<StoredRow>(
    `SELECT ${keys}, ${t.columns.map((c) => `"${c.name}"`).join(', ')} FROM ${t.table}
     WHERE (${t.columns.map(stale).join(' OR ')}) ${cursor}
     ORDER BY ${keys} LIMIT $2 FOR UPDATE`,
    [prefix, limit, ...(after ?? [])],
  );
}

/** Writes the re-encrypted values of a batch back, one statement. */
export async function updateRows(tx: SqlQuery, t: EncryptedTable, rows: StoredRow[]): Promise<void> {
  if (!rows.length) return;
  const record = [
    ...t.key.map((k, i) => `"${k}" ${t.keyTypes[i]}`),
    ...t.columns.map((c) => `"${c.name}" ${c.kind === 'text' ? 'text' : 'jsonb'}`),
  ].join(', ');
  await tx.query(
    `UPDATE ${t.table} AS t SET ${t.columns.map((c) => `"${c.name}" = x."${c.name}"`).join(', ')}
     FROM jsonb_to_recordset($1::jsonb) AS x(${record})
     WHERE ${t.key.map((k) => `t."${k}" = x."${k}"`).join(' AND ')}`,
    [JSON.stringify(rows)],
  );
}

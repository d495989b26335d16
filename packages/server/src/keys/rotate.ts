import type { SqlRunner } from '../db/database.js';
import { isCiphertext, isSealed, type Pii } from '../shared/pii.js';
import { ENCRYPTED_TABLES, staleRows, updateRows, type EncryptedTable, type StoredRow } from './keys.store.js';

export interface TableReport {
  table: string;
  /** Rows written back. */
  rows: number;
  /** Values re-encrypted under the current key, of which `plaintext` were not encrypted before (rows older than migration 0006). */
  values: number;
  plaintext: number;
  /** Values no configured key decrypts (left as they are), as `table key: column`. */
  failed: string[];
}

export interface RotateOptions {
  /** Rows per transaction: each batch is its own short transaction, so a stop loses at most one batch. */
  batchSize?: number;
  onBatch?: (table: string, report: TableReport) => void;
}

/**
 * Re-encrypts every encrypted column (ENCRYPTED_TABLES) under the current key, in batches of short
 * transactions that walk each table in key order. Resumable: a row already under the current key is
 * never selected, so running it again (after a stop, or while instances still wrote with an old key)
 * carries on with what is left. Plaintext left from before migration 0006 is encrypted on the way.
 * Lookup hashes are not touched: they never rotate.
 */
export async function rotateKeys(sql: SqlRunner, pii: Pii, options: RotateOptions = {}): Promise<TableReport[]> {
  const batchSize = options.batchSize ?? 500;
  const prefix = `v2.${pii.currentKeyId}.`;
  const reports: TableReport[] = [];
  for (const t of ENCRYPTED_TABLES) {
    const report: TableReport = { table: t.table, rows: 0, values: 0, plaintext: 0, failed: [] };
    let after: unknown[] | null = null;
    for (;;) {
      const batch = await sql.transaction(async (tx) => {
        const rows = await staleRows(tx, t, prefix, after, batchSize);
        const updated = rows.map((row) => reencryptRow(pii, t, row, report)).filter((row): row is StoredRow => row !== null);
        await updateRows(tx, t, updated);
        report.rows += updated.length;
        return rows;
      });
      if (batch.length) options.onBatch?.(t.table, report);
      if (batch.length < batchSize) break;
      after = t.key.map((k) => batch[batch.length - 1]![k]);
    }
    reports.push(report);
  }
  return reports;
}

/** The row with each stale value under the current key; null when nothing in it could be changed. */
function reencryptRow(pii: Pii, t: EncryptedTable, row: StoredRow, report: TableReport): StoredRow | null {
  const out: StoredRow = { ...row };
  let changed = false;
  for (const column of t.columns) {
    const value = row[column.name];
    if (value === null || value === undefined) continue;
    try {
      if (column.kind === 'text') {
        const stored = value as string;
        if (pii.isCurrent(stored)) continue;
        if (!isCiphertext(stored)) report.plaintext++;
        out[column.name] = pii.encrypt(pii.readText(stored));
      } else {
        if (isSealed(value) && pii.isCurrent(value.sealed)) continue;
        if (!isSealed(value)) report.plaintext++;
        out[column.name] = pii.seal(pii.unseal(value));
      }
      report.values++;
      changed = true;
    } catch (error) {
      report.failed.push(`${t.table} ${t.key.map((k) => row[k]).join('/')}: ${column.name} (${(error as Error).message})`);
    }
  }
  return changed ? out : null;
}

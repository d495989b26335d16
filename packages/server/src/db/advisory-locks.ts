import type { SqlQuery } from './database.js';

/**
 * Transaction-level advisory locks on `keys` within one namespace (`lockClass`; the two-int form
 * keeps it apart from single-bigint advisory locks), held until the transaction ends. Taken in key
 * order, so two transactions locking overlapping sets queue instead of deadlocking.
 */
export async function lockKeysInTransaction(tx: SqlQuery, lockClass: number, keys: string[]): Promise<void> {
  const ids = [...new Set(keys)].sort();
  if (!ids.length) return;
  await tx.query(`SELECT pg_advisory_xact_lock($1::int, hashtext(id))::text FROM unnest($2::text[]) AS id`, [lockClass, ids]);
}

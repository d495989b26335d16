import type { SqlQuery } from './database.js';

/**
 * Runs fn inside a savepoint of the caller's transaction: when fn throws, only what it did is
 * rolled back (the transaction goes on) and the error is rethrown. `name` is a fixed identifier.
 */
export async function withSavepoint<T>(tx: SqlQuery, name: string, fn: () => Promise<T>): Promise<T> {
  await tx.query(`SAVEPOINT ${name}`);
  try {
    const value = await fn();
    await tx.query(`RELEASE SAVEPOINT ${name}`);
    return value;
  } catch (error) {
    await tx.query(`ROLLBACK TO SAVEPOINT ${name}`);
    throw error;
  }
}

/**
 * Every SQL statement the app's pool sends, Prisma's and plain SQL's alike (db.sql, its sessions and
 * transactions, BEGIN and COMMIT included), in the order sent. Statement-count tests use it so an
 * N+1 on either path fails them.
 */
export class SqlRecorder {
  readonly statements: string[] = [];

  /** The hook `openDatabase({ onStatement })` calls. */
  readonly record = (text: string): void => {
    this.statements.push(text);
  };

  reset(): void {
    this.statements.length = 0;
  }

  /** The statements sent while fn ran (nothing else may run on the app meanwhile), and fn's result. */
  async during<T>(fn: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
    this.reset();
    const result = await fn();
    return { result, statements: [...this.statements] };
  }

  /** How many statements fn sent, leaving out the sign-in lookups of a token (api_tokens, users). */
  async count(fn: () => Promise<unknown>): Promise<number> {
    const { statements } = await this.during(fn);
    return statements.filter((s) => !/\b(api_tokens|users)\b/.test(s)).length;
  }
}

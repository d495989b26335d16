import type { z } from 'zod';

/** An update field that may be left out (or null): then the stored value stays. */
export function keepWhenAbsent<T extends z.ZodType>(schema: T) {
  return schema.nullish().transform((v) => v ?? undefined);
}

/** Leaves out fields the caller did not send, so an update changes only what was given. */
export function stripUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as never;
}

import type { Dataset } from '../dataset.js';
import type { Child } from './processes.js';

export interface BenchContext {
  databaseUrl: string;
  dataset: Dataset;
  slotwise: Child;
  floor: Child;
  bare: Child;
  /** Root fields of the running server's schema, e.g. "Query.availability", "Mutation.book". */
  fields: Set<string>;
  warmupMs: number;
  /** Warm-up before a suite's first measurement: the servers' JIT is cold then (Slotwise has more code to warm). */
  firstWarmupMs: number;
  durationMs: number;
}

/** The schema's root fields, read by introspection from the running server. */
export async function rootFields(url: string): Promise<Set<string>> {
  const query = `{ __schema {
    queryType { fields { name } } mutationType { fields { name } } subscriptionType { fields { name } } } }`;
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  const { data } = (await response.json()) as { data: { __schema: Record<string, { fields: { name: string }[] } | null> } };
  const fields = new Set<string>();
  for (const [key, type] of [
    ['Query', 'queryType'],
    ['Mutation', 'mutationType'],
    ['Subscription', 'subscriptionType'],
  ] as const) {
    for (const f of data.__schema[type]?.fields ?? []) fields.add(`${key}.${f.name}`);
  }
  return fields;
}

/** BENCH_ONLY (a regular expression): only the scenarios whose name matches run. */
export const wanted = (scenario: string): boolean => !process.env.BENCH_ONLY || new RegExp(process.env.BENCH_ONLY).test(scenario);

export const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

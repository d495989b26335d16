import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED_FILE, generateSdk, missingRootFields } from '../../../codegen.js';

describe('generated SDK', () => {
  it('matches schema.graphql and the operation documents', async () => {
    const committed = readFileSync(GENERATED_FILE, 'utf8');
    expect(committed === (await generateSdk()), 'packages/sdk/src/generated/graphql.ts is stale: run `pnpm codegen`').toBe(true);
  });

  it('has an operation document for every root field of schema.graphql', () => {
    expect(missingRootFields(), 'add an operation for these fields to packages/sdk/src/operations/*.graphql, then run `pnpm codegen`').toEqual([]);
  });
});

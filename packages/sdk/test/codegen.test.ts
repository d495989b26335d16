import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatedFiles, missingRootFields } from '../../../codegen.js';

describe('generated SDK', () => {
  it('matches schema.graphql and the operation documents (strings, DocumentNodes, possibleTypes and graphcache keys)', async () => {
    for (const [file, text] of await generatedFiles()) {
      expect(readFileSync(file, 'utf8') === text, `${file} is stale: run \`pnpm codegen\``).toBe(true);
    }
  });

  it('has an operation document for every root field of schema.graphql', () => {
    expect(missingRootFields(), 'add an operation for these fields to packages/sdk/src/operations/*.graphql, then run `pnpm codegen`').toEqual([]);
  });
});

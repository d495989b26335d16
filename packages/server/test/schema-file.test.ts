import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printSchemaFile, SCHEMA_FILE } from '../src/schema-file.js';

describe('schema.graphql', () => {
  it('matches the Pothos schema', () => {
    const committed = readFileSync(SCHEMA_FILE, 'utf8');
    expect(committed, `${SCHEMA_FILE} is stale: run \`pnpm schema:print\` and commit the file`).toBe(printSchemaFile());
  });
});

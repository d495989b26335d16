import { fileURLToPath } from 'node:url';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from './schema.js';

/** The committed contract at the repository root; the SDK is generated from it. */
export const SCHEMA_FILE = fileURLToPath(new URL('../../../schema.graphql', import.meta.url));

export function printSchemaFile(): string {
  return `# Printed from the Pothos schema by \`pnpm schema:print\`; do not edit.\n\n${printSchema(lexicographicSortSchema(schema))}\n`;
}

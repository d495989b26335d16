// `prisma generate` needs no schema engine; point the CLI at a placeholder so it never tries to download one.
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const placeholder = join(mkdtempSync(join(tmpdir(), 'slotwise-')), 'schema-engine');
writeFileSync(placeholder, '#!/bin/sh\nexit 1\n', { mode: 0o755 });
const prismaCli = createRequire(import.meta.url).resolve('prisma/build/index.js');
execFileSync(process.execPath, [prismaCli, 'generate'], {
  stdio: 'inherit',
  env: {
    ...process.env,
    // generators such as prisma-pothos-types are found on the package's own bin path
    PATH: `${join(process.cwd(), 'node_modules', '.bin')}:${process.env.PATH}`,
    PRISMA_SCHEMA_ENGINE_BINARY: placeholder,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  },
});

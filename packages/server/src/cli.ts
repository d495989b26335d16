import { parseArgs } from 'node:util';
import { loadConfig } from './config.js';
import { openDatabase } from './db/database.js';
import { migrate } from './db/migrate.js';
import { AuthService } from './auth/auth.service.js';
import { withEmbeddedSecrets } from './secrets.js';
import { rotateKeys } from './keys/rotate.js';
import { Pii, piiKeysFromConfig } from './shared/pii.js';
import { ValidationError } from './shared/errors.js';

const USAGE = `Usage:
  slotwise db migrate                             apply pending migrations
  slotwise admin create --email E [--name N]      create an admin (or make E one) and print an API token once
  slotwise keys rotate [--batch-size N]           re-encrypt personal data under ENCRYPTION_KEY (ENCRYPTION_KEY_ID), N rows per transaction (default 500)`;

const COMMANDS = new Set(['db migrate', 'admin create', 'keys rotate']);

async function main(argv: string[]) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { email: { type: 'string' }, name: { type: 'string' }, 'batch-size': { type: 'string' } },
  });
  const command = positionals.join(' ');
  if (!COMMANDS.has(command)) {
    console.error(USAGE);
    return 2;
  }
  if (command === 'admin create' && !values.email) {
    console.error('admin create needs --email');
    return 2;
  }
  const batchSize = Number(values['batch-size'] ?? 500);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    console.error('--batch-size must be a whole number from 1 to 10000');
    return 2;
  }
  const config = withEmbeddedSecrets(loadConfig());
  const db = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR });
  try {
    const applied = await migrate(db.sql);
    if (command === 'db migrate') {
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
      return 0;
    }
    if (command === 'keys rotate') return await rotate(db.sql, new Pii(piiKeysFromConfig(config)), batchSize);
    let admin: Awaited<ReturnType<AuthService['ensureAdmin']>>;
    try {
      admin = await new AuthService(db.prisma, config).ensureAdmin(values.email!, values.name ?? '');
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      // Named as the options are: "--email must be an email address".
      console.error(err.fieldErrors.map((e) => `--${e.path.join('.')} ${e.message}`).join('; '));
      return 2;
    }
    console.log(`admin ${admin.user.email} (${admin.user.roles.join(', ')})`);
    console.log(`API token (shown once): ${admin.token}`);
    return 0;
  } finally {
    await db.close();
  }
}

/** Prints what each table needed; non-zero when a value could not be decrypted (a key missing from the configuration). */
async function rotate(sql: Parameters<typeof rotateKeys>[0], pii: Pii, batchSize: number): Promise<number> {
  console.log(`re-encrypting under key ${pii.currentKeyId}, ${batchSize} rows per transaction`);
  const reports = await rotateKeys(sql, pii, { batchSize });
  for (const r of reports) {
    console.log(`${r.table}: ${r.rows} rows, ${r.values} values re-encrypted (${r.plaintext} were plaintext), ${r.failed.length} failed`);
  }
  const failed = reports.flatMap((r) => r.failed);
  for (const f of failed) console.error(`not decrypted: ${f}`);
  const total = reports.reduce((sum, r) => sum + r.values, 0);
  console.log(
    failed.length
      ? `${failed.length} values left as they were: add their keys to ENCRYPTION_OLD_KEYS and run again`
      : `done: ${total} values re-encrypted, everything is under key ${pii.currentKeyId}`,
  );
  return failed.length ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);

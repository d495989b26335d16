import { parseArgs } from 'node:util';
import { loadConfig } from './config.js';
import { openDatabase } from './db/database.js';
import { migrate } from './db/migrate.js';
import { AuthService } from './auth/auth.service.js';
import { withEmbeddedSecrets } from './secrets.js';

const USAGE = `Usage:
  slotwise db migrate                             apply pending migrations
  slotwise admin create --email E [--name N]      create an admin (or make E one) and print an API token once`;

async function main(argv: string[]) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { email: { type: 'string' }, name: { type: 'string' } },
  });
  const command = positionals.join(' ');
  if (command !== 'db migrate' && command !== 'admin create') {
    console.error(USAGE);
    return 2;
  }
  if (command === 'admin create' && !values.email) {
    console.error('admin create needs --email');
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
    const { user, token } = await new AuthService(db.prisma, config).ensureAdmin(values.email!, values.name ?? '');
    console.log(`admin ${user.email} (${user.roles.join(', ')})`);
    console.log(`API token (shown once): ${token}`);
    return 0;
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);

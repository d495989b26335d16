import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from './config.js';

/**
 * The embedded mode needs no setup: a missing JWT_SECRET or ENCRYPTION_KEY is generated once and
 * kept in DATA_DIR/secrets.json, so tokens and encrypted data survive a restart.
 * (With DATABASE_URL both are required by the config instead.)
 */
export function withEmbeddedSecrets(config: Config): Config {
  if (config.DATABASE_URL || (config.JWT_SECRET && config.ENCRYPTION_KEY)) return config;
  const fresh = { JWT_SECRET: randomBytes(32).toString('hex'), ENCRYPTION_KEY: randomBytes(32).toString('hex') };
  let stored = fresh;
  if (!config.DATA_DIR.startsWith('memory://')) {
    const dir = resolve(config.DATA_DIR);
    const file = join(dir, 'secrets.json');
    if (existsSync(file)) stored = { ...fresh, ...JSON.parse(readFileSync(file, 'utf8')) };
    else {
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, JSON.stringify(fresh, null, 2), { mode: 0o600 });
    }
  }
  return { ...config, JWT_SECRET: config.JWT_SECRET ?? stored.JWT_SECRET, ENCRYPTION_KEY: config.ENCRYPTION_KEY ?? stored.ENCRYPTION_KEY };
}

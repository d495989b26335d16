import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const SECRETS = { JWT_SECRET: 'x'.repeat(32), ENCRYPTION_KEY: 'ab'.repeat(32) };

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('has working defaults for the embedded mode', () => {
    expect(loadConfig({})).toMatchObject({
      PORT: 4000,
      HOST: '0.0.0.0',
      DATA_DIR: './.slotwise',
      DATABASE_POOL_MAX: 10,
      HOLD_TTL_MINUTES: 10,
      SEED_DEMO: 'auto',
      DEFAULT_TIME_ZONE: 'UTC',
      LOG_LEVEL: 'info',
    });
    expect(loadConfig({}).DATABASE_URL).toBeUndefined();
  });

  it('reads and coerces good values; empty strings count as unset', () => {
    const config = loadConfig({
      PORT: '8080',
      DATABASE_URL: 'postgresql://u@db:5432/slotwise',
      REDIS_URL: 'rediss://cache:6380',
      SMTP_URL: 'smtp://mail:1025',
      DEFAULT_TIME_ZONE: 'America/New_York',
      LOG_LEVEL: '',
      ...SECRETS,
    });
    expect(config).toMatchObject({ PORT: 8080, REDIS_URL: 'rediss://cache:6380', DEFAULT_TIME_ZONE: 'America/New_York', LOG_LEVEL: 'info' });
  });

  it.each([
    ['PORT', { PORT: 'abc' }],
    ['PORT', { PORT: '70000' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://x', ...SECRETS }],
    ['REDIS_URL', { REDIS_URL: 'http://x' }],
    ['REDIS_KEY_PREFIX', { REDIS_KEY_PREFIX: 'has spaces' }],
    ['REDIS_KEY_PREFIX', { REDIS_KEY_PREFIX: 'staging:' }],
    ['SMTP_URL', { SMTP_URL: 'mail.example' }],
    ['JWT_SECRET', { JWT_SECRET: 'too-short' }],
    ['ENCRYPTION_KEY', { ENCRYPTION_KEY: 'not-hex' }],
    ['DEFAULT_TIME_ZONE', { DEFAULT_TIME_ZONE: 'Mars/Base' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['EVENT_BUS_URL', { EVENT_BUS_URL: 'kafka://broker:9092' }],
    ['EVENT_BUS_TOPIC', { EVENT_BUS_TOPIC: 'has spaces' }],
    ['WEBHOOK_ALLOW_PRIVATE_NETWORKS', { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'yes' }],
    ['WEBHOOK_MAX_ATTEMPTS', { WEBHOOK_MAX_ATTEMPTS: '0' }],
    ['JWT_SECRET', { DATABASE_URL: 'postgres://db/slotwise', ENCRYPTION_KEY: SECRETS.ENCRYPTION_KEY }],
    ['ENCRYPTION_KEY', { DATABASE_URL: 'postgres://db/slotwise', JWT_SECRET: SECRETS.JWT_SECRET }],
    ['ENCRYPTION_KEY_ID', { ...SECRETS, ENCRYPTION_KEY_ID: 'has.dot' }],
    ['ENCRYPTION_OLD_KEYS', { ...SECRETS, ENCRYPTION_OLD_KEYS: 'k0:abc' }],
    ['ENCRYPTION_OLD_KEYS', { ...SECRETS, ENCRYPTION_OLD_KEYS: `k0:${'cd'.repeat(32)},k0:${'ef'.repeat(32)}` }],
    ['ENCRYPTION_OLD_KEYS', { ...SECRETS, ENCRYPTION_LOOKUP_KEY: SECRETS.ENCRYPTION_KEY, ENCRYPTION_OLD_KEYS: `k1:${'cd'.repeat(32)}` }],
    ['ENCRYPTION_LOOKUP_KEY', { ...SECRETS, ENCRYPTION_LOOKUP_KEY: 'short' }],
    ['ENCRYPTION_LOOKUP_KEY', { ...SECRETS, ENCRYPTION_KEY_ID: 'k2', ENCRYPTION_OLD_KEYS: `k1:${'cd'.repeat(32)}` }],
    ['WORKERS', { WORKERS: 'abc' }],
    ['WORKERS', { WORKERS: '0' }],
    ['DATABASE_READ_URL', { DATABASE_READ_URL: 'mysql://replica' }],
    ['DATABASE_READ_URL', { DATABASE_READ_URL: 'postgres://replica/slotwise' }],
  ])('rejects a bad %s with one line naming it', (name, env) => {
    const { message } = configError(env);
    expect(message).toMatch(new RegExp(`^Invalid configuration: ${name}\\b`));
    expect(message).not.toContain('\n');
  });

  it('reads a key ring: current key id, old keys as kid:hex, the lookup key', () => {
    const old = 'cd'.repeat(32);
    const config = loadConfig({
      ...SECRETS,
      ENCRYPTION_KEY_ID: 'k2',
      ENCRYPTION_OLD_KEYS: ` k1:${old} , k0:${'ef'.repeat(32)}`,
      ENCRYPTION_LOOKUP_KEY: old,
    });
    expect(config).toMatchObject({ ENCRYPTION_KEY_ID: 'k2', ENCRYPTION_LOOKUP_KEY: old });
    expect(config.ENCRYPTION_OLD_KEYS).toEqual([
      { id: 'k1', keyHex: old },
      { id: 'k0', keyHex: 'ef'.repeat(32) },
    ]);
    expect(loadConfig(SECRETS).ENCRYPTION_OLD_KEYS).toEqual([]);
  });

  it('reads WORKERS as auto or a number, 1 by default', () => {
    expect(loadConfig({}).WORKERS).toBe(1);
    expect(loadConfig({ WORKERS: 'auto' }).WORKERS).toBe('auto');
    expect(loadConfig({ WORKERS: '4' }).WORKERS).toBe(4);
  });

  it('accepts a JWKS URL instead of JWT_SECRET with DATABASE_URL', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://db/slotwise',
      JWT_JWKS_URL: 'https://id.example/jwks',
      ENCRYPTION_KEY: SECRETS.ENCRYPTION_KEY,
    });
    expect(config.JWT_SECRET).toBeUndefined();
  });
});

describe('the server process', () => {
  it('stops on a bad variable with exit code 1 and one line on stderr, no stack', async () => {
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    // Only PATH and HOME: nothing from the test environment may hide or cause the error.
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: 'abc' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(1);
    expect(stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^Invalid configuration: PORT\b/)]);
    expect(stdout).toBe('');
  });
});

describe('mail configuration', () => {
  it('sends by default, redirects nowhere, and tries 8 times', () => {
    expect(loadConfig({})).toMatchObject({ NOTIFICATIONS_ENABLED: true, MAIL_MAX_ATTEMPTS: 8 });
    expect(loadConfig({}).NOTIFICATIONS_REDIRECT_TO).toBeUndefined();
    expect(loadConfig({ NOTIFICATIONS_ENABLED: 'false', NOTIFICATIONS_REDIRECT_TO: 'qa@example.com', MAIL_MAX_ATTEMPTS: '3' })).toMatchObject({
      NOTIFICATIONS_ENABLED: false,
      NOTIFICATIONS_REDIRECT_TO: 'qa@example.com',
      MAIL_MAX_ATTEMPTS: 3,
    });
  });

  it.each([
    ['NOTIFICATIONS_ENABLED', { NOTIFICATIONS_ENABLED: 'off' }],
    ['NOTIFICATIONS_REDIRECT_TO', { NOTIFICATIONS_REDIRECT_TO: 'not-an-address' }],
    ['MAIL_MAX_ATTEMPTS', { MAIL_MAX_ATTEMPTS: '0' }],
    ['MAIL_MAX_ATTEMPTS', { MAIL_MAX_ATTEMPTS: 'many' }],
  ])('rejects a bad %s with one line naming it', (name, env) => {
    expect(configError(env).message).toMatch(new RegExp(`^Invalid configuration: ${name}\\b`));
  });
});

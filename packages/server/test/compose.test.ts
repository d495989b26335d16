import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema, loadConfig } from '../src/config.js';

// docker-compose.yml and the Dockerfile must agree with the server's config schema: renaming a
// variable or a port in one place and not the other fails here, not at someone's first `compose up`.
const ROOT = new URL('../../../', import.meta.url);

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string };
  environment?: Record<string, string>;
  ports?: string[];
  expose?: string[];
  healthcheck?: { test: string[] | string };
  depends_on?: Record<string, { condition: string }>;
}

const compose = parse(readFileSync(new URL('docker-compose.yml', ROOT), 'utf8')) as { services: Record<string, Service> };
const { postgres, redis, mailpit, server } = compose.services as Record<string, Service>;
const dockerfile = readFileSync(new URL(server?.build?.dockerfile ?? 'Dockerfile', new URL(`${server?.build?.context ?? '.'}/`, ROOT)), 'utf8');

/** The value Compose uses when the variable is not set in the shell: `${NAME:-default}` -> default. */
const resolve = (value: string) => value.replace(/\$\{\w+:-([^}]*)\}/g, '$1');
const serverEnv = Object.fromEntries(Object.entries(server?.environment ?? {}).map(([k, v]) => [k, resolve(String(v))]));

/** Ports a service listens on inside the network: `expose` entries and the container side of `ports`. */
const containerPorts = (service: Service) => [...(service.expose ?? []), ...(service.ports ?? []).map((p) => p.split(':').at(-1)!)].map(Number);

describe('docker-compose.yml', () => {
  it('has postgres, redis, a mail catcher and the server, each with a health check', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['mailpit', 'nats', 'postgres', 'rabbitmq', 'redis', 'server']);
    expect(postgres?.image).toBe('postgres:16');
    expect(redis?.image).toBe('redis:7');
    expect(mailpit?.image).toMatch(/^axllent\/mailpit/);
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.healthcheck?.test, `${name} healthcheck`).toBeTruthy();
    }
    expect(String(server?.healthcheck?.test)).toContain('/healthz');
    expect(String(postgres?.healthcheck?.test)).toContain('pg_isready');
  });

  it('sets only variables the server reads, and a valid configuration', () => {
    const known = Object.keys(configSchema.shape);
    const names = Object.keys(serverEnv);
    expect(names.filter((name) => !known.includes(name))).toEqual([]);
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'SMTP_URL', 'JWT_SECRET', 'ENCRYPTION_KEY', 'PORT', 'PUBLIC_URL']) expect(names).toContain(name);
    expect(() => loadConfig(serverEnv)).not.toThrow();
  });

  it('publishes the port the server listens on, and the Dockerfile exposes it', () => {
    const port = loadConfig(serverEnv).PORT;
    expect(server?.ports?.map((p) => p.split(':').map(Number))).toEqual([[port, port]]);
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${port}$`, 'm'));
    expect(dockerfile).toMatch(new RegExp(`PORT=${port}\\b`));
  });

  it('points the server at the postgres, redis and mailpit services on their container ports', () => {
    const targets: [string, string, Service | undefined][] = [
      ['DATABASE_URL', 'postgres', postgres],
      ['REDIS_URL', 'redis', redis],
      ['SMTP_URL', 'mailpit', mailpit],
    ];
    for (const [variable, host, service] of targets) {
      const url = new URL(serverEnv[variable]!);
      expect(url.hostname, variable).toBe(host);
      expect(containerPorts(service!), variable).toContain(Number(url.port));
    }
    const db = new URL(serverEnv.DATABASE_URL!);
    expect({ user: db.username, password: db.password, database: db.pathname.slice(1) }).toEqual({
      user: postgres?.environment?.POSTGRES_USER,
      password: postgres?.environment?.POSTGRES_PASSWORD,
      database: postgres?.environment?.POSTGRES_DB,
    });
  });

  it('delivers mail to the mail catcher over plain SMTP on the port it listens on, and publishes its web UI', () => {
    const smtp = new URL(loadConfig(serverEnv).SMTP_URL!);
    expect(smtp.protocol).toBe('smtp:');
    expect(smtp.port).toBe('1025');
    expect(mailpit?.expose).toContain(smtp.port);
    expect(mailpit?.ports).toEqual(['8025:8025']);
  });

  it('has the event brokers as optional services (profile events) on the ports EVENT_BUS_URL names', () => {
    const { nats, rabbitmq } = compose.services as Record<string, Service & { profiles?: string[] }>;
    expect(nats?.profiles).toEqual(['events']);
    expect(rabbitmq?.profiles).toEqual(['events']);
    expect(containerPorts(nats!)).toContain(4222);
    expect(containerPorts(rabbitmq!)).toContain(5672);
    for (const url of ['nats://nats:4222', 'amqp://guest:guest@rabbitmq:5672'])
      expect(loadConfig({ ...serverEnv, EVENT_BUS_URL: url }).EVENT_BUS_URL).toBe(url);
  });

  it('starts the server only after its services are healthy', () => {
    expect(server?.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
      mailpit: { condition: 'service_healthy' },
    });
  });
});

describe('Dockerfile', () => {
  it('builds on node 20 slim with the pinned pnpm and runs the start script as a non-root user', () => {
    expect(existsSync(new URL('.dockerignore', ROOT))).toBe(true);
    expect(dockerfile).toMatch(/^FROM node:20-bookworm-slim AS base$/m);
    const version = (JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as { packageManager: string }).packageManager;
    expect(dockerfile).toContain(`corepack prepare ${version} --activate`);
    expect(dockerfile).toContain('pnpm install --frozen-lockfile');
    const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(final).toMatch(/^USER node$/m);
    // The server package's `start` script, run by node itself so SIGTERM reaches the graceful shutdown.
    const start = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } }).scripts.start;
    expect(start, 'start script is `node [flags] --import tsx <entry>`').toMatch(/^node (--\S+ )*--import tsx \S+$/);
    // The young generation docs/performance.md measured and docs/operations.md promises.
    expect(start.split(' ')).toContain('--max-semi-space-size=64');
    expect(final).toMatch(/^WORKDIR \/app\/packages\/server$/m);
    expect(final).toContain(
      `CMD [${start
        .split(' ')
        .map((token) => JSON.stringify(token))
        .join(', ')}]`,
    );
  });
});

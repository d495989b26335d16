import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { freePort, spawnServer, type ServerProcess } from '../faults.js';

/** A redis-server of the test's own: nothing persisted, loopback only, killed and restarted at will. */
export class OwnRedis {
  private proc: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  async start(): Promise<void> {
    const proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    const lines = createInterface({ input: proc.stdout! });
    await Promise.race([
      new Promise<void>((resolve) => lines.on('line', (line) => /Ready to accept connections/.test(line) && resolve())),
      once(proc, 'exit').then(([code]) => Promise.reject(new Error(`redis-server on ${this.port} exited with ${code}`))),
    ]);
  }

  /** SIGKILL: connections drop at once, as in a crash. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode) return;
    proc.kill('SIGKILL');
    await once(proc, 'exit');
  }
}

/**
 * Two Slotwise server processes on one database sharing a Redis of our own, as the Redis fault test
 * and `pnpm chaos` run them: rate limits on (high), so they go through Redis or, while it is away,
 * in-process; a short command timeout, so a dead Redis is noticed quickly. `redisDown`: Redis is
 * killed before the servers start. `env` starts more servers like them.
 */
export async function serversSharingOwnRedis(databaseUrl: string, options: { redisDown?: boolean } = {}) {
  const redis = await OwnRedis.start();
  if (options.redisDown) await redis.kill();
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.url,
    REDIS_COMMAND_TIMEOUT_MS: '300',
    RATE_LIMIT_READS_PER_MINUTE: '100000',
    RATE_LIMIT_BOOKINGS_PER_MINUTE: '100000',
  };
  const servers: [ServerProcess, ServerProcess] = await Promise.all([spawnServer(env), spawnServer(env)]);
  return { redis, env, servers };
}

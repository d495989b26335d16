import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createTestDatabase, ensureTemplate, TEST_REDIS_URL } from '../../test/databases.js';
import { setTimeout as sleep } from 'node:timers/promises';

const SERVER_DIR = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The node flags of the server's `start` script (`node <flags> --import tsx src/main.ts`): every server
 * the bench starts, Slotwise and the baselines alike, runs with them, so a ratio compares code, not
 * runtime settings.
 */
export const START_NODE_FLAGS: string[] = (() => {
  const start: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).scripts.start;
  const tokens = start.split(' ');
  return tokens.slice(1, tokens.indexOf('--import'));
})();

export const BENCH_SECRETS = { JWT_SECRET: 'bench-secret-that-is-long-enough-0123456789', ENCRYPTION_KEY: '0e'.repeat(32) };
export const REDIS_URL = TEST_REDIS_URL;

/** A fresh database copied from the migrated template, dropped when the bench ends. */
export async function createBenchDatabase() {
  await ensureTemplate();
  return createTestDatabase();
}

export interface Child {
  name: string;
  url: string;
  pid: number;
  /** Resident memory of the child, in bytes. */
  rss(): number;
  /** The last few KB the child wrote (error logs, warnings). */
  stderr(): string;
  stop(): Promise<void>;
}

/** Every child still running, so an interrupted bench can stop them all. */
export const runningChildren = new Set<Child>();

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/**
 * Starts a TypeScript entry point as its own node process (not through the tsx CLI, so the pid is
 * the server's), with the start script's node flags, and waits until GET `readyPath` answers 200.
 */
export async function startChild(
  name: string,
  entry: string,
  env: Record<string, string>,
  options: { readyPath?: string; nodeFlags?: string[] } = {},
): Promise<Child> {
  const { readyPath = '/healthz', nodeFlags = [] } = options;
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [...START_NODE_FLAGS, ...nodeFlags, '--import', 'tsx', entry], {
    cwd: SERVER_DIR,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The tail of what the child printed (logs at LOG_LEVEL=warn, warnings), for diagnosis.
  let stderr = '';
  const keep = (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-8000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  // Generous: on a busy machine a server (or WORKERS > 1 of them) takes minutes to load its modules.
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${stderr}`);
    const ok = await fetch(url + readyPath).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not become ready: ${stderr}`);
    }
    await sleep(100);
  }
  const handle: Child = {
    name,
    url,
    pid: child.pid!,
    stderr: () => stderr,
    rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }).finally(() => runningChildren.delete(handle)),
  };
  runningChildren.add(handle);
  return handle;
}

/**
 * CPU time (user + system, ms) used so far by a process and every process below it (a WORKERS > 1
 * server's workers), from the kernel's per-process counters in /proc/<pid>/stat.
 */
export function processTreeCpuMs(rootPid: number): number {
  const ticksPerSecond = 100; // USER_HZ on Linux
  const procs = new Map<number, { ppid: number; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // Fields after the command name (which may hold spaces) start at its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime + stime, plus cutime + cstime: what reaped children used (a database backend that exited).
    const ticks = [11, 12, 13, 14].reduce((n, i) => n + Number(fields[i]), 0);
    procs.set(Number(entry), { ppid: Number(fields[1]), ticks });
  }
  let total = 0;
  const pending = [rootPid];
  while (pending.length) {
    const pid = pending.pop()!;
    total += procs.get(pid)?.ticks ?? 0;
    for (const [child, p] of procs) if (p.ppid === pid) pending.push(child);
  }
  return (total * 1000) / ticksPerSecond;
}

/**
 * The pid of the PostgreSQL serving databaseUrl when it runs on this machine and its data directory
 * is readable (postmaster.pid), else undefined: then no database CPU is reported.
 */
export async function postmasterPid(databaseUrl: string): Promise<number | undefined> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ dir: string }>(`SELECT current_setting('data_directory') AS dir`);
    return Number(readFileSync(`${rows[0]!.dir}/postmaster.pid`, 'utf8').split('\n')[0]) || undefined;
  } catch {
    return undefined;
  } finally {
    await client.end();
  }
}

/** Busy and total CPU time of the whole machine so far (first line of /proc/stat), in clock ticks. */
function machineCpu(): { busy: number; total: number } {
  const ticks = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((sum, t) => sum + t, 0);
  // idle and iowait
  return { busy: total - ticks[3]! - ticks[4]!, total };
}

/**
 * Waits until the machine is quiet (under 15% busy over half a second), at most maxMs
 * (BENCH_SETTLE_MAX_SECONDS, default 60): a server's
 * start-up work (Slotwise's first slot-horizon run, mostly PostgreSQL's) must not land inside a
 * measurement.
 */
export async function settled(maxMs = Number(process.env.BENCH_SETTLE_MAX_SECONDS ?? 60) * 1000): Promise<number> {
  const started = performance.now();
  let last = machineCpu();
  while (performance.now() - started < maxMs) {
    await sleep(500);
    const now = machineCpu();
    const busy = (now.busy - last.busy) / Math.max(1, now.total - last.total);
    last = now;
    if (busy < 0.15) break;
  }
  return performance.now() - started;
}

/**
 * The real Slotwise server (src/main.ts) on the bench database. BENCH_CPU_PROFILE=<dir> makes it
 * write a V8 CPU profile there when it stops (open it in Chrome DevTools).
 */
export function startSlotwise(databaseUrl: string, options: { redis?: boolean; name?: string; workers?: number; env?: Record<string, string> } = {}) {
  const profileDir = process.env.BENCH_CPU_PROFILE;
  return startChild(
    options.name ?? 'slotwise',
    'src/main.ts',
    {
      DATABASE_URL: databaseUrl,
      ...BENCH_SECRETS,
      LOG_LEVEL: 'warn',
      SEED_DEMO: 'false',
      // One load driver is one client address: limits high enough never to refuse it, still counted per request.
      RATE_LIMIT_READS_PER_MINUTE: '1000000000',
      RATE_LIMIT_BOOKINGS_PER_MINUTE: '1000000000',
      MAX_SUBSCRIPTIONS_PER_IP: '100000',
      MAX_WS_CONNECTIONS_PER_IP: '100000',
      // Mails are queued inside each booking transaction (measured); their delivery is a background job
      // that would write thousands of .eml files here, so it stays off.
      NOTIFICATIONS_ENABLED: 'false',
      // The bench reads the root fields by introspection (off by default with DATABASE_URL).
      INTROSPECTION: 'true',
      ...(options.redis ? { REDIS_URL } : {}),
      ...(options.workers ? { WORKERS: String(options.workers) } : {}),
      ...options.env,
    },
    { nodeFlags: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [] },
  );
}

/** The stack floor (graphql-yoga + pg, one SQL) or bare node:http with the same SQL. */
export function startFloor(databaseUrl: string, mode: 'yoga' | 'http') {
  return startChild(mode === 'yoga' ? 'floor (yoga+pg)' : 'bare node:http+pg', 'bench/baselines/floor-server.ts', {
    DATABASE_URL: databaseUrl,
    FLOOR_MODE: mode,
  });
}

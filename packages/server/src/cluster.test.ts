import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRETS } from '../test/kit/app.js';
import { createBookableSlots, freePort, HOLD_MUTATION } from '../test/faults.js';
import { waitFor } from '../test/kit/wait.js';
import { EventLog, LIVE_QUERY, type LiveEvent } from '../test/kit/live.js';
import { createTestDatabase, TEST_REDIS_URL } from '../test/databases.js';

const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url));
// Starting several tsx processes on a busy two-core machine takes a while.
const START_MS = 180_000;

interface Cluster {
  url: string;
  proc: ChildProcess;
  logs: Record<string, unknown>[];
  stderr: string[];
  workerPids(): number[];
  stop(): Promise<number | null>;
}

/** `src/main.ts` itself, as an operator starts it; resolves once the primary says every worker listens. */
async function startMain(env: Record<string, string>, readyMessage = 'all workers listening'): Promise<Cluster> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: SERVER_DIR,
    env: {
      ...process.env,
      ...TEST_SECRETS,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      SEED_DEMO: 'false',
      SHUTDOWN_TIMEOUT_MS: '500',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  createInterface({ input: proc.stderr! }).on('line', (line) => stderr.push(line));
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      logs.push({ text: line });
    }
  });
  try {
    await waitFor(
      () => {
        if (proc.exitCode !== null) throw new Error(`exited with ${proc.exitCode}: ${stderr.join('\n')}`);
        return logs.some((l) => typeof l.msg === 'string' && l.msg.startsWith(readyMessage));
      },
      readyMessage,
      START_MS,
      100,
    );
  } catch (err) {
    // Nothing of ours is left running: the primary stops its workers.
    proc.kill('SIGTERM');
    throw err;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    proc,
    logs,
    stderr,
    // Its node children running main.ts (tsx also starts an esbuild service process).
    workerPids: () => {
      let children = '';
      try {
        children = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(proc.pid)], { encoding: 'utf8' });
      } catch {
        // ps exits 1 when the process has no children at all.
      }
      return children
        .split('\n')
        .filter((line) => line.includes('main.ts'))
        .map((line) => Number(line.trim().split(/\s+/)[0]));
    },
    async stop() {
      if (proc.exitCode !== null) return proc.exitCode;
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}

interface Answer {
  status: number;
  worker: string | undefined;
  body: { data?: Record<string, any>; errors?: { extensions?: { code?: string } }[] };
}

/** One GraphQL POST on a connection of its own (no keep-alive), so the cluster hands it to the next worker. */
function post(url: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/graphql`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode!, worker: res.headers['x-slotwise-worker'] as string | undefined, body: JSON.parse(text) }),
      );
    });
    req.on('error', reject);
    req.end(JSON.stringify({ query, variables }));
  });
}

/** An SSE subscription on its own connection; `worker` is the worker that holds it. */
function subscribe(url: string, variables: Record<string, unknown>) {
  const log = new EventLog<LiveEvent>();
  let worker: string | undefined;
  const req = request(
    `${url}/graphql`,
    { method: 'POST', agent: false, headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-session-id': 'live' } },
    (res) => {
      worker = res.headers['x-slotwise-worker'] as string | undefined;
      let buffer = '';
      res.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const data = buffer
            .slice(0, end)
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trim())
            .join('\n');
          buffer = buffer.slice(end + 2);
          if (!data) continue;
          const payload = JSON.parse(data) as { data?: { slotAvailability: LiveEvent }; errors?: unknown };
          if (payload.errors) log.end(payload.errors);
          else if (payload.data) log.push(payload.data.slotAvailability);
        }
      });
      res.on('end', () => log.end());
    },
  );
  req.on('error', (err) => log.end(err));
  req.end(JSON.stringify({ query: LIVE_QUERY, variables }));
  return { log, worker: () => worker, close: () => req.destroy() };
}

/** Holds on fresh connections until one is answered by a worker other than `notOn`. */
async function holdElsewhere(url: string, slotIds: string[], notOn: string): Promise<Answer> {
  for (const [i, slotId] of slotIds.entries()) {
    const answer = await post(url, HOLD_MUTATION, {
      input: { slotId: encodeGlobalID('Slot', slotId), customer: { name: `C ${i}`, email: `c${i}@example.com` } },
    });
    expect(answer.body.data?.hold.__typename).toBe('BookingReceipt');
    if (answer.worker !== notOn) return answer;
  }
  throw new Error(`every hold landed on worker ${notOn}`);
}

/** A subscriber on one worker sees a hold made through another. */
async function crossWorkerLiveEvent(cluster: Cluster, databaseUrl: string) {
  const { resourceId, slotIds } = await createBookableSlots(databaseUrl, 6, 5);
  const live = subscribe(cluster.url, { resourceId: encodeGlobalID('Resource', resourceId) });
  try {
    const snapshot = await live.log.at(0, 30_000);
    expect(snapshot.kind).toBe('SNAPSHOT');
    const subscribedOn = live.worker()!;
    expect(subscribedOn).toMatch(/^\d+$/);
    const hold = await holdElsewhere(cluster.url, slotIds, subscribedOn);
    expect(hold.worker).not.toBe(subscribedOn);
    await live.log.until(() => live.log.items.some((e) => e.kind === 'CHANGE' && e.reason === 'HELD'), 30_000, 'the HELD change');
    const change = live.log.items.find((e) => e.kind === 'CHANGE')!;
    expect(change.slots![0]).toMatchObject({ held: 1, version: 2 });
  } finally {
    live.close();
  }
}

describe('WORKERS=2 on PostgreSQL without Redis', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let cluster: Cluster;

  beforeAll(async () => {
    database = await createTestDatabase();
    // Reads limited (per X-Session-Id) to prove the limit is shared; bookings not limited.
    // Reads are cost units: a live subscription costs about 81, `{ __typename }` 1.
    cluster = await startMain({ DATABASE_URL: database.url, WORKERS: '2', RATE_LIMIT_READS_PER_MINUTE: '100', RATE_LIMIT_BOOKINGS_PER_MINUTE: '0' });
  }, START_MS + 30_000);

  afterAll(async () => {
    await cluster?.stop();
    await database?.drop();
  });

  it('runs two worker processes that both answer on the one port', async () => {
    expect(cluster.workerPids()).toHaveLength(2);
    const seen = new Set<string>();
    for (let i = 0; i < 6 && seen.size < 2; i++) {
      const answer = await post(cluster.url, '{ __typename }', {}, { 'x-session-id': `probe-${i}` });
      expect(answer.status).toBe(200);
      seen.add(answer.worker!);
    }
    expect([...seen].sort()).toEqual(['1', '2']);
  });

  it('delivers a hold made through one worker to a live subscriber on the other (LISTEN/NOTIFY)', async () => {
    await crossWorkerLiveEvent(cluster, database.url);
  }, 90_000);

  it('shares one rate limit between the workers (in PostgreSQL)', async () => {
    const answers = [];
    for (let i = 0; i < 110; i++) answers.push(await post(cluster.url, '{ __typename }', {}, { 'x-session-id': 'limited' }));
    const allowed = answers.filter((a) => a.status === 200);
    // Exactly the limit across both workers (per-worker limits would have let all 110 through).
    expect(allowed).toHaveLength(100);
    expect(new Set(answers.map((a) => a.worker)).size).toBe(2);
    expect(answers.filter((a) => a.status === 429).every((a) => a.body.errors?.[0]?.extensions?.code === 'RATE_LIMITED')).toBe(true);
  });

  it('stops every worker gracefully on SIGTERM', async () => {
    const pids = cluster.workerPids();
    expect(pids).toHaveLength(2);
    expect(await cluster.stop()).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    expect(cluster.logs.filter((l) => l.msg === 'stopped')).toHaveLength(2);
  }, 60_000);
});

describe('WORKERS=2 with Redis', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let cluster: Cluster;

  beforeAll(async () => {
    database = await createTestDatabase();
    cluster = await startMain({
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      WORKERS: '2',
      RATE_LIMIT_READS_PER_MINUTE: '0',
      RATE_LIMIT_BOOKINGS_PER_MINUTE: '0',
    });
  }, START_MS + 30_000);

  afterAll(async () => {
    await cluster?.stop();
    await database?.drop();
  });

  it('delivers a hold made through one worker to a live subscriber on the other (Redis pub/sub)', async () => {
    await crossWorkerLiveEvent(cluster, database.url);
  }, 90_000);
});

describe('WORKERS settings', () => {
  it(
    'stops on a bad WORKERS value with exit code 1 and one line',
    async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: SERVER_DIR,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, WORKERS: 'abc' },
      });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      const [code] = (await once(child, 'exit')) as [number];
      expect(code).toBe(1);
      expect(stderr.trimEnd().split('\n')).toEqual(['Invalid configuration: WORKERS must be auto or a number of processes (1-256)']);
    },
    START_MS,
  );

  it(
    'runs one process in embedded mode and says so',
    async () => {
      const embedded = await startMain({ DATA_DIR: 'memory://', WORKERS: '2', DATABASE_URL: '' }, 'GraphiQL');
      try {
        expect(embedded.logs.some((l) => l.level === 40 && String(l.msg).startsWith('embedded mode runs one process'))).toBe(true);
        expect(embedded.workerPids()).toEqual([]);
        const answer = await post(embedded.url, '{ __typename }');
        expect(answer.status).toBe(200);
        expect(answer.worker).toBeUndefined();
      } finally {
        expect(await embedded.stop()).toBe(0);
      }
    },
    START_MS,
  );
});

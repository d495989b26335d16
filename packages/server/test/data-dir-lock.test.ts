import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir } from '../src/db/data-dir-lock.js';
import { waitFor } from './kit/wait.js';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'slotwise-lock-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** `pnpm start` as a user runs it: src/main.ts, embedded database on `dataDir`. */
function startMain(dataDir: string) {
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', SEED_DEMO: 'false', LOG_LEVEL: 'warn', DATABASE_URL: '', REDIS_URL: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr: string[] = [];
  createInterface({ input: proc.stderr! }).on('line', (line) => stderr.push(line));
  return { proc, stderr };
}

function readLock(dataDir: string): { pid: number } | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'slotwise.lock'), 'utf8')) as { pid: number };
  } catch {
    return undefined;
  }
}

/** A pid that belonged to a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('embedded data dir lock', () => {
  it("makes a second process on the same DATA_DIR exit non-zero at once with one line naming the dir and the holder; a SIGKILLed holder's lock is taken over", async () => {
    const dataDir = tempDir();
    const first = startMain(dataDir);
    // The lock is taken before the database opens: no need to wait for the whole start.
    await waitFor(() => readLock(dataDir)?.pid === first.proc.pid, 'the first process to hold the lock', 30_000);
    const second = startMain(dataDir);
    const [code] = (await once(second.proc, 'exit')) as [number];
    expect(code).not.toBe(0);
    expect(second.stderr).toEqual([
      expect.stringMatching(new RegExp(`^Data dir ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by process ${first.proc.pid} `)),
    ]);
    expect(first.proc.exitCode).toBeNull();

    // A crash leaves the lock file behind; whoever opens the dir next sees its process is gone and takes over.
    first.proc.kill('SIGKILL');
    await once(first.proc, 'exit');
    expect(JSON.parse(readFileSync(join(dataDir, 'slotwise.lock'), 'utf8')).pid).toBe(first.proc.pid);
    const next = lockDataDir(dataDir);
    expect(JSON.parse(readFileSync(join(dataDir, 'slotwise.lock'), 'utf8')).pid).toBe(process.pid);
    next.release();
    expect(() => readFileSync(join(dataDir, 'slotwise.lock'))).toThrow();
  }, 60_000);

  it('refuses a second lock while the holder lives, and takes over a lock whose process is gone', () => {
    const dir = tempDir();
    const lock = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    lock.release();
    writeFileSync(join(dir, 'slotwise.lock'), JSON.stringify({ pid: deadPid(), startedAt: new Date().toISOString() }));
    const again = lockDataDir(dir);
    expect(JSON.parse(readFileSync(join(dir, 'slotwise.lock'), 'utf8')).pid).toBe(process.pid);
    again.release();
  });
});

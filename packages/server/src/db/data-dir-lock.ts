import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Another live process has the embedded database open: the caller stops with this one line. */
export class DataDirLockedError extends Error {
  constructor(dataDir: string, holder: LockOwner) {
    super(`Data dir ${dataDir} is in use by process ${holder.pid} (started ${holder.startedAt}); stop it or set another DATA_DIR`);
  }
}

interface LockOwner {
  pid: number;
  startedAt: string;
}

export interface DataDirLock {
  release(): void;
}

const LOCK_FILE = 'slotwise.lock';

/**
 * PGlite is one process's database: a second process on the same files would keep its own view and
 * overwrite the first one's writes. The lock file names its owner (pid and start time); a lock whose
 * process is gone (or whose pid now belongs to a younger process) is stale and taken over.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const path = resolve(dataDir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, startedAt: new Date(Date.now() - performance.now()).toISOString() };
  // Twice at most: the second try follows the removal of a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      // 'wx' fails when the file exists: creating it is the atomic claim.
      writeFileSync(path, JSON.stringify(me), { flag: 'wx' });
      const release = () => {
        process.off('exit', release);
        if (readOwner(path)?.pid === me.pid) unlinkSync(path);
      };
      // A normal exit without close() still leaves no lock behind; a SIGKILL does, which is why stale locks are taken over.
      process.on('exit', release);
      return { release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readOwner(path);
      if (holder && isAlive(holder)) throw new DataDirLockedError(resolve(dataDir), holder);
      try {
        unlinkSync(path);
      } catch (unlinkError) {
        if ((unlinkError as NodeJS.ErrnoException).code !== 'ENOENT') throw unlinkError;
      }
    }
  }
  const holder = readOwner(path);
  throw new DataDirLockedError(resolve(dataDir), holder ?? { pid: -1, startedAt: 'unknown' });
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    return typeof owner.pid === 'number' && typeof owner.startedAt === 'string' ? (owner as LockOwner) : undefined;
  } catch {
    // Unreadable or half-written: its writer died between create and write.
    return undefined;
  }
}

function isAlive(owner: LockOwner): boolean {
  if (owner.pid === process.pid) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A pid reused by a process started after the lock was written does not hold it. The margin is
  // wide on purpose: clocks and tick counts disagree a little, and wrongly thinking a lock live only
  // refuses a start, while wrongly thinking it stale would let two processes share the files.
  const started = processStartMs(owner.pid);
  return started === undefined || started <= Date.parse(owner.startedAt) + 60_000;
}

/** When a process started, from Linux's /proc (undefined elsewhere). */
function processStartMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime, clock ticks after boot); fields are counted after the parenthesised name.
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const bootSeconds = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    // USER_HZ is 100 on every Linux Node.js runs on.
    return Number.isFinite(ticks) && bootSeconds ? bootSeconds * 1000 + ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

describe('a port already taken', () => {
  it('stops the server with one line naming the address and a non-zero exit, not a process running its jobs unreachable', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as AddressInfo).port;
    try {
      const proc = spawn(process.execPath, ['--import', 'tsx', MAIN], {
        env: {
          ...process.env,
          DATA_DIR: 'memory://',
          PORT: String(port),
          HOST: '127.0.0.1',
          SEED_DEMO: 'false',
          LOG_LEVEL: 'warn',
          DATABASE_URL: '',
          REDIS_URL: '',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const stderr: string[] = [];
      createInterface({ input: proc.stderr! }).on('line', (line) => stderr.push(line));
      const [code] = (await once(proc, 'exit')) as [number];
      expect(code).toBe(1);
      expect(stderr).toEqual([`Cannot listen on 127.0.0.1:${port}: the address is in use (another server on this port?); set PORT or HOST`]);
    } finally {
      holder.close();
    }
  }, 60_000);
});

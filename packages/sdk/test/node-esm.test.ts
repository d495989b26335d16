import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLiveServer, type LiveServer } from './live-server.js';
import { setUpScenario, type Scenario } from './scenario.js';

const run = promisify(execFile);
const sdkDir = new URL('../', import.meta.url).pathname;
const dist = new URL('../dist/', import.meta.url);

let server: LiveServer;
let s: Scenario;
beforeAll(async () => {
  // The published form: ESM JavaScript and declarations, as `pnpm build` (and prepack) emit them.
  await run(process.execPath, [new URL('../node_modules/typescript/bin/tsc', import.meta.url).pathname, '-p', 'tsconfig.build.json'], {
    cwd: sdkDir,
  });
  server = await startLiveServer();
  s = await setUpScenario(server);
}, 120_000);
afterAll(() => server?.stop());

/** Plain Node (no TypeScript loader) importing the built package; no global WebSocket on Node 20, so SSE. */
const script = `
import { createClient, AvailabilityDocument, ServerClockDocument } from '${new URL('index.js', dist).href}';
const client = createClient({ url: process.env.URL });
const { availability } = await client.request(AvailabilityDocument, { resourceId: process.env.RESOURCE, from: process.env.FROM, to: process.env.TO });
const ticks = client.subscribe(ServerClockDocument, { intervalMs: 100 });
const tick = await ticks.next();
await ticks.return();
console.log(JSON.stringify({ typename: availability.__typename, slots: availability.slots.length, tick: typeof tick.value.serverTime }));
`;

describe('the built package', () => {
  it('runs in plain Node as ESM: a query and an SSE subscription', async () => {
    const first = s.slots[0]!;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, URL: server.url, RESOURCE: s.resourceId, FROM: first.startAt, TO: first.endAt },
    });
    expect(JSON.parse(stdout)).toEqual({ typename: 'Availability', slots: 1, tick: 'string' });
  });

  // The oldest TypeScript the README promises: its declarations, strict, as an app with Node16 modules would use them.
  // (5.9, the workspace's, checks the sources and examples in `pnpm typecheck`.)
  it('its declarations typecheck under TypeScript 5.0', async () => {
    const tsc = '../node_modules/typescript-5.0/bin/tsc';
    const dir = new URL('consumer/', dist);
    mkdirSync(dir, { recursive: true });
    writeFileSync(new URL('app.ts', dir), CONSUMER);
    writeFileSync(
      new URL('tsconfig.json', dir),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: 'Node16',
          moduleResolution: 'Node16',
          target: 'ES2022',
          lib: ['ES2022', 'DOM'],
          types: [],
        },
        files: ['app.ts'],
      }),
    );
    const result = await run(process.execPath, [new URL(tsc, import.meta.url).pathname, '-p', new URL('tsconfig.json', dir).pathname]).catch(
      (e) => e,
    );
    expect(`${result.stdout ?? ''}${result.stderr ?? ''}`).toBe('');
  }, 120_000);

  it('ships declarations and no server or Prisma imports', () => {
    const files = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(js|d\.ts)$/.test(f));
    expect(files).toEqual(expect.arrayContaining(['index.js', 'index.d.ts', 'documents.d.ts', 'format.d.ts', 'generated/graphql.d.ts']));
    const leaks = files.filter((f) => /@slotwise\/server|packages\/server|prisma/i.test(readFileSync(new URL(f, dist), 'utf8')));
    expect(leaks).toEqual([]);
  });
});

const CONSUMER = `
import { createClient, isBusinessError, possibleTypes, AvailabilityDocument, ServerClockDocument } from '../index.js';
import { HoldDocument as HoldNode, graphcacheKeys } from '../documents.js';
import { timeFormat } from '../format.js';
const client = createClient({ url: 'http://localhost:4000/graphql' });
export async function main(): Promise<string> {
  const { hold } = await client.request(HoldNode, { input: { slotId: 's', customer: { name: 'A', email: 'a@example.com' } } });
  if (isBusinessError(hold)) return hold.code;
  const { availability } = await client.request(AvailabilityDocument, { resourceId: 'r', from: 'x', to: 'y' });
  for await (const tick of client.subscribe(ServerClockDocument, { intervalMs: 1000 })) return tick.serverTime;
  return availability.__typename + hold.booking.id + possibleTypes.Error!.length + Object.keys(graphcacheKeys).length + timeFormat('en-GB').zone('Europe/London');
}
`;

// Bundle sizes as a browser app sees them: esbuild (minify, browser, ESM), then gzip.
// `pnpm --filter @slotwise/sdk size`
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const sdkDir = new URL('..', import.meta.url).pathname;
const widgetEntry = new URL('../../widget/src/index.ts', import.meta.url).pathname;
const reactDir = new URL('../../react/', import.meta.url).pathname;

/** A tiny app: createClient and one query, nothing else. */
const app = `
import { createClient, AvailabilityDocument } from './src/index.ts';
const client = createClient({ url: '/graphql' });
client.request(AvailabilityDocument, { resourceId: 'r', from: '2026-01-01T00:00:00Z', to: '2026-01-08T00:00:00Z' }).then(console.log);
`;

/** A booking page on the hooks: provider, live availability, hold, confirm and book (React itself left out). */
const hooksApp = `
import { createElement } from 'react';
import { SlotwiseProvider, useAvailability, useBook, useConfirm, useHold } from './src/index.ts';
function Page() {
  const a = useAvailability({ resourceId: 'r', from: '2026-01-01T00:00:00Z', to: '2026-01-08T00:00:00Z' });
  const hold = useHold(), confirm = useConfirm(), book = useBook();
  return createElement('p', { onClick: () => hold.run({ slotId: 's', customer: { name: 'n', email: 'e' } }).then(() => confirm.run({ bookingId: 'b', manageToken: 't' })).then(() => book.run({ slotId: 's', customer: { name: 'n', email: 'e' } })) }, a.slots.length);
}
export const app = createElement(SlotwiseProvider, { options: { url: '/graphql' } }, createElement(Page));
`;

/** The formatting module with one formatter in use. */
const formatApp = `import { timeFormat } from './src/format.ts'; console.log(timeFormat('en-GB').slot('2026-01-01T09:00:00Z', '2026-01-01T09:30:00Z', 'Europe/London'));`;

async function size(name, options) {
  const result = await build({
    bundle: true,
    minify: true,
    platform: 'browser',
    format: 'esm',
    target: ['es2020'],
    write: false,
    legalComments: 'none',
    logLevel: 'warning',
    ...options,
  });
  const code = result.outputFiles[0].contents;
  const gzip = gzipSync(code, { level: 9 }).length;
  const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
  console.log(`${name.padEnd(44)} ${kb(code.length).padStart(9)} minified  ${kb(gzip).padStart(8)} gzip`);
  return { minified: code.length, gzip };
}

export const sizes = {
  app: await size('SDK: createClient + one query document', { stdin: { contents: app, resolveDir: sdkDir, loader: 'ts' } }),
  hooks: await size('@slotwise/react hooks + the SDK they use', {
    stdin: { contents: hooksApp, resolveDir: reactDir, loader: 'ts' },
    external: ['react'],
  }),
  hooksOnly: await size('@slotwise/react alone (SDK and React apart)', {
    stdin: { contents: hooksApp, resolveDir: reactDir, loader: 'ts' },
    external: ['react', '@slotwise/sdk'],
  }),
  format: await size('@slotwise/sdk/format (one formatter)', { stdin: { contents: formatApp, resolveDir: sdkDir, loader: 'ts' } }),
  widget: await size('widget.js (SDK, live updates, DOM, CSS)', { entryPoints: [widgetEntry], format: 'iife' }),
};

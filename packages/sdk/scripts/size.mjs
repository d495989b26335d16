// Bundle sizes as a browser app sees them: esbuild (minify, browser, ESM), then gzip.
// `pnpm --filter @slotwise/sdk size`
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const sdkDir = new URL('..', import.meta.url).pathname;
const widgetEntry = new URL('../../widget/src/index.ts', import.meta.url).pathname;

/** A tiny app: createClient and one query, nothing else. */
const app = `
import { createClient, AvailabilityDocument } from './src/index.ts';
const client = createClient({ url: '/graphql' });
client.request(AvailabilityDocument, { resourceId: 'r', from: '2026-01-01T00:00:00Z', to: '2026-01-08T00:00:00Z' }).then(console.log);
`;

async function size(name, options) {
  const result = await build({ bundle: true, minify: true, platform: 'browser', format: 'esm', target: ['es2020'], write: false, legalComments: 'none', logLevel: 'warning', ...options });
  const code = result.outputFiles[0].contents;
  const gzip = gzipSync(code, { level: 9 }).length;
  const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
  console.log(`${name.padEnd(44)} ${kb(code.length).padStart(9)} minified  ${kb(gzip).padStart(8)} gzip`);
  return { minified: code.length, gzip };
}

export const sizes = {
  app: await size('SDK: createClient + one query document', { stdin: { contents: app, resolveDir: sdkDir, loader: 'ts' } }),
  widget: await size('widget.js (SDK, live updates, DOM, CSS)', { entryPoints: [widgetEntry], format: 'iife' }),
};

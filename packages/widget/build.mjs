// Bundles the widget into one script: dist/widget.js (served by the server at /widget.js).
import { build } from 'esbuild';

const result = await build({
  entryPoints: [new URL('./src/index.ts', import.meta.url).pathname],
  outfile: new URL('./dist/widget.js', import.meta.url).pathname,
  bundle: true,
  minify: true,
  format: 'iife',
  platform: 'browser',
  target: ['es2020'],
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`built packages/widget/dist/widget.js (${(bytes / 1024).toFixed(1)} kB minified)`);

import { execFileSync } from 'node:child_process';

/** Builds dist/widget.js once before the test files run (the server serves it at /widget.js). */
export default function buildWidget() {
  execFileSync(process.execPath, [new URL('../build.mjs', import.meta.url).pathname], { stdio: 'inherit' });
}

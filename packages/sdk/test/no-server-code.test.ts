import { readdirSync, readFileSync } from 'node:fs';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const src = new URL('../src/', import.meta.url);
const FORBIDDEN = /@slotwise\/server|packages\/server|prisma/i;

function sourceFiles(dir: URL): URL[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(new URL(`${e.name}/`, dir)) : e.name.endsWith('.ts') ? [new URL(e.name, dir)] : [],
  );
}

describe('the SDK carries no server code', () => {
  it('imports nothing from the server or Prisma in its sources', () => {
    const imports = sourceFiles(src).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => `${file.pathname.split('/src/')[1]}: ${m[1]}`),
    );
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((i) => FORBIDDEN.test(i))).toEqual([]);
  });

  it.each([
    ['the SDK', new URL('index.ts', src).pathname],
    ['the widget', new URL('../../widget/src/index.ts', import.meta.url).pathname],
  ])('%s bundles for the browser from its own modules and graphql-ws only', async (_name, entry) => {
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((i) => FORBIDDEN.test(i))).toEqual([]);
    expect(inputs.filter((i) => i.includes('node_modules')).every((i) => i.includes('graphql-ws'))).toBe(true);
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/@slotwise\/server|@prisma\/client/);
  });
});

import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import madge from 'madge';
import { describe, expect, it } from 'vitest';

const packagesDir = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** Test code in src/ (tests, fixtures, test servers): it may reach across domains, the domains themselves may not. */
const TEST_CODE = /(\.test|fixtures?)\.tsx?$|(^|\/)test-|(^|\/)fixtures\/|-test-/;

/**
 * Folder edges that still close a cycle between domains, each with what it is for. A new edge that closes
 * a cycle fails the test; so does an edge listed here that no longer exists (take it out of the list).
 */
const KNOWN_FOLDER_CYCLE_EDGES = new Map([
  ['scheduling -> booking', 'slot-reconcile tells the waitlist about added places through booking-changes'],
  ['booking -> calendar', 'booking transactions queue their mails through calendar/booking-mail'],
  ['booking -> forms', 'form-slot bookings raise the forms errors FormNotOpen and FormRegistrationRequired'],
  ['calendar -> forms', 'calendar pages and mails use the forms page layout and slot labels'],
]);

const GENERATED = /(^|\/)generated\//;

function dependencyGraph(srcDir: string) {
  return madge(srcDir, {
    fileExtensions: ['ts', 'tsx'],
    tsConfig: join(srcDir, '../tsconfig.json'),
    // Generated code (the Prisma client) is neither walked nor reported.
    dependencyFilter: (path) => !GENERATED.test(path),
    excludeRegExp: [GENERATED, /\.d\.ts$/],
    // Type-only imports count: they tie modules together as much as any other import.
    detectiveOptions: { ts: { skipTypeImports: false }, tsx: { skipTypeImports: false } },
  });
}

const graphs = new Map<string, ReturnType<typeof dependencyGraph>>();
/** Each package's graph is built once for all the tests that read it. */
function graphOf(name: string) {
  if (!graphs.has(name)) graphs.set(name, dependencyGraph(join(packagesDir, name, 'src')));
  return graphs.get(name)!;
}

const packageSources = readdirSync(packagesDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && readdirSync(join(packagesDir, entry.name)).includes('src'))
  .map((entry) => entry.name);

describe('import cycles', () => {
  it('finds the sources of every package', () => {
    expect(packageSources).toEqual(expect.arrayContaining(['server', 'sdk', 'react', 'widget']));
  });

  it.each(packageSources)('packages/%s/src has no file cycle', async (name) => {
    const graph = await graphOf(name);
    expect(Object.keys(graph.obj()).length).toBeGreaterThan(3);
    // Every relative import must resolve, or a cycle through it would go unseen.
    expect(graph.warnings().skipped.filter((path) => path.startsWith('.'))).toEqual([]);
    expect(graph.circular()).toEqual([]);
  });

  it('packages/server/src has no cycle between its domain folders', async () => {
    const files = (await graphOf('server')).obj();
    const edges = new Set<string>();
    for (const [file, imports] of Object.entries(files)) {
      if (TEST_CODE.test(file)) continue;
      const from = topFolder(file);
      for (const imported of imports.filter((i) => !TEST_CODE.test(i))) {
        const to = topFolder(imported);
        if (from && to && from !== to) edges.add(`${from} -> ${to}`);
      }
    }
    expect([...KNOWN_FOLDER_CYCLE_EDGES.keys()].filter((edge) => !edges.has(edge))).toEqual([]);
    expect(folderCycles([...edges].filter((edge) => !KNOWN_FOLDER_CYCLE_EDGES.has(edge)))).toEqual([]);
  });
});

/** `booking/booking.service.ts` -> `booking`; files at the root of src (the composition root) -> null. */
function topFolder(file: string): string | null {
  const parts = file.split('/');
  return parts.length > 1 ? parts[0]! : null;
}

/** Each cycle as its folders in order (`a -> b -> a`), found by walking the edges depth first. */
function folderCycles(edges: string[]): string[] {
  const next = new Map<string, string[]>();
  for (const edge of edges) {
    const [from, to] = edge.split(' -> ') as [string, string];
    next.set(from, [...(next.get(from) ?? []), to]);
  }
  const cycles = new Set<string>();
  const done = new Set<string>();
  const visit = (folder: string, path: string[]) => {
    const at = path.indexOf(folder);
    if (at >= 0) return void cycles.add([...path.slice(at), folder].join(' -> '));
    if (done.has(folder)) return;
    for (const to of next.get(folder) ?? []) visit(to, [...path, folder]);
    done.add(folder);
  };
  for (const folder of [...next.keys()].sort()) visit(folder, []);
  return [...cycles];
}

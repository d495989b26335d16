import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';

/**
 * The README and docs/ are read by people who paste what they show: every GraphQL operation in them must
 * run against the schema, every `pnpm` command must exist, every link between them must land.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const docs = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const schema = buildSchema(readFileSync(join(root, 'schema.graphql'), 'utf8'));

/** A ```graphql block whose first line is this is a fragment of an operation, not one to run. */
const SKIP_MARK = '# docs-test: skip';
/** pnpm's own commands, which are not scripts. */
const PNPM_COMMANDS = new Set(['install', 'i', 'add', 'remove', 'update', 'exec', 'dlx', 'store', 'pack', 'publish', 'create', 'why', 'list']);

interface Block {
  lang: string;
  code: string;
  line: number;
}

function read(file: string): string {
  return readFileSync(join(root, file), 'utf8');
}

/** Fenced code blocks, with the line each starts on. */
function blocks(markdown: string): Block[] {
  const found: Block[] = [];
  let open: Block | null = null;
  for (const [i, line] of markdown.split('\n').entries()) {
    const fence = /^```(\S*)/.exec(line);
    if (!fence) {
      if (open) open.code += `${line}\n`;
    } else if (open) {
      found.push(open);
      open = null;
    } else {
      open = { lang: fence[1] ?? '', code: '', line: i + 1 };
    }
  }
  return found;
}

/** The text outside fenced blocks (prose, tables, inline code). */
function prose(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');
}

/** Scripts by package name ('' for the root), from every package.json of the workspace. */
function scripts(): Map<string, Set<string>> {
  const all = new Map<string, Set<string>>();
  const manifests = ['package.json', ...readdirSync(join(root, 'packages')).map((p) => `packages/${p}/package.json`)];
  for (const file of manifests.filter((f) => existsSync(join(root, f)))) {
    const manifest = JSON.parse(read(file)) as { name: string; scripts?: Record<string, string> };
    all.set(file === 'package.json' ? '' : manifest.name, new Set(Object.keys(manifest.scripts ?? {})));
  }
  return all;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, heading] of prose(markdown).matchAll(/^#{1,6} (.+)$/gm)) {
    const slug = heading!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\- _]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    result.add(n ? `${slug}-${n}` : slug);
  }
  return result;
}

describe('docs', () => {
  it('reads the README, CONTRIBUTING and every page of docs/', () => {
    expect(docs).toEqual(expect.arrayContaining(['README.md', 'docs/api.md', 'docs/configuration.md']));
  });

  it.each(docs)('%s: every graphql block parses and validates against schema.graphql', (file) => {
    const problems: string[] = [];
    for (const block of blocks(read(file)).filter((b) => b.lang === 'graphql')) {
      if (block.code.trimStart().startsWith(SKIP_MARK)) continue;
      try {
        const errors = validate(schema, parse(block.code));
        for (const error of errors) problems.push(`${file}:${block.line}: ${error.message}`);
      } catch (error) {
        problems.push(`${file}:${block.line}: ${(error as Error).message}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it.each(docs)('%s: every `pnpm <script>` is a script of the root or of the package it filters', (file) => {
    const known = scripts();
    const markdown = read(file);
    // Inline code (which may wrap onto the next line) and fenced blocks.
    const inline = [...prose(markdown).matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace(/\s+/g, ' '));
    const code = inline.concat(blocks(markdown).map((b) => b.code));
    const problems: string[] = [];
    for (const text of code) {
      for (const m of text.matchAll(/\bpnpm(?:@[\d.]+)?((?:\s+(?:--filter|-F)\s+\S+|\s+-r|\s+--recursive)*)\s+([a-z][\w:-]*)/g)) {
        const [command, options, script] = [m[0], m[1] ?? '', m[2]!];
        if (PNPM_COMMANDS.has(script)) continue;
        const filter = /(?:--filter|-F)\s+(\S+)/.exec(options)?.[1];
        const recursive = /-r|--recursive/.test(options);
        const ok = filter
          ? known.get(filter)?.has(script)
          : recursive
            ? [...known.entries()].some(([name, s]) => name && s.has(script))
            : known.get('')?.has(script);
        if (!ok) problems.push(`${file}: \`${command.trim()}\` names no script`);
      }
    }
    expect(problems).toEqual([]);
  });

  it.each(docs)('%s: every relative link and anchor resolves', (file) => {
    const problems: string[] = [];
    for (const [, target] of prose(read(file)).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target!)) continue;
      const [path, anchor] = target!.split('#') as [string, string | undefined];
      const linked = path ? join(dirname(join(root, file)), path) : join(root, file);
      if (!existsSync(linked)) problems.push(`${file}: ${target} (no such file)`);
      else if (anchor && linked.endsWith('.md') && !anchors(readFileSync(linked, 'utf8')).has(anchor)) {
        problems.push(`${file}: ${target} (no heading #${anchor} in ${relative(root, linked)})`);
      }
    }
    expect(problems).toEqual([]);
  });
});

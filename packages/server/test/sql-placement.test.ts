import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * SQL text and Prisma writes live in `<domain>/*.store.ts` (named statements) and `src/db/`
 * (migrations, LISTEN, the read replica); services own transactions and rules, resolvers and
 * routes call services. Only string literals and calls are read, so comments and GraphQL
 * documents do not count; Prisma reads (Pothos' `query`, findMany) may stay where they are.
 */
const SRC = join(import.meta.dirname, '../src');

const EXEMPT_DIRS = ['db', 'generated'];

/** Tests set up data directly; their helpers live in test/kit/, outside src/. */
function isTest(path: string): boolean {
  return path.endsWith('.test.ts');
}

const SQL_TEXT = [
  /\bSELECT\b[\s\S]*\bFROM\b/,
  /\bSELECT\s+(\d|true\b|false\b|\$\d|[a-z_]+\()/,
  /\bINSERT\s+INTO\b/,
  /\bUPDATE\s+[a-z_"]+\s+(AS\s+\w+\s+)?SET\b/,
  /\bDELETE\s+FROM\b/,
  /\bWITH\s+\w+\s+AS\s+(MATERIALIZED\s+)?\(/,
  /\bON\s+CONFLICT\b/,
  /\bFOR\s+(UPDATE|SHARE)\b/,
  /\bpg_(notify|advisory_\w+|try_advisory_\w+)\(/,
  /\$\d+::[a-z]+/,
  /^\s*(LISTEN|UNLISTEN|NOTIFY|TRUNCATE|VACUUM|SET\s+LOCAL|SET\s+[a-z_]+\s*(=|TO\b)|LOCK\s+TABLE)\b/,
  /^\s*(SAVEPOINT|RELEASE\s+SAVEPOINT|ROLLBACK(\s+TO)?|BEGIN|COMMIT)\b(?!:)/,
];

const PRISMA_WRITES = new Set([
  'create',
  'createMany',
  'createManyAndReturn',
  'update',
  'updateMany',
  'updateManyAndReturn',
  'upsert',
  'delete',
  'deleteMany',
]);
const RAW_SQL = new Set(['$queryRaw', '$queryRawUnsafe', '$executeRaw', '$executeRawUnsafe']);

/** Prisma's model delegates (`prisma.booking`, `tx.slot`): the models of schema.prisma, first letter lower case. */
const DELEGATES = new Set(
  [...readFileSync(join(import.meta.dirname, '../prisma/schema.prisma'), 'utf8').matchAll(/^model (\w+)/gm)].map(
    ([, name]) => name![0]!.toLowerCase() + name!.slice(1),
  ),
);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return dir === SRC && EXEMPT_DIRS.includes(entry.name) ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.store.ts') && !isTest(path) ? [path] : [];
  });
}

/** `file:line  what` for every SQL literal, raw query call and Prisma write in the file. */
function misplacedSql(path: string, text = readFileSync(path, 'utf8')): string[] {
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const report = (node: ts.Node, what: string) => {
    const line = file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
    found.push(`${relative(join(SRC, '..'), path)}:${line}  ${what}`);
  };
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteralLike(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
      if (SQL_TEXT.some((pattern) => pattern.test(node.text))) report(node, `SQL text: ${node.text.trim().split('\n')[0]!.slice(0, 60)}`);
    } else if (ts.isPropertyAccessExpression(node)) {
      const name = node.name.text;
      if (RAW_SQL.has(name)) report(node, `raw query: ${name}`);
      else if (PRISMA_WRITES.has(name) && ts.isPropertyAccessExpression(node.expression) && DELEGATES.has(node.expression.name.text)) {
        report(node, `Prisma write: ${node.expression.name.text}.${name}`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

describe('SQL placement', () => {
  it('finds SQL, raw queries and Prisma writes but not GraphQL documents or comments', () => {
    const sample = [
      '// SELECT id FROM slots is only a comment',
      'const doc = `query Slots($id: ID!) { slots(resourceId: $id) { id startAt } }`;',
      "const message = 'Select a slot from the list';",
      'await sql.query(`SELECT id FROM slots WHERE id = $1::uuid`, [id]);',
      'await db.prisma.booking.update({ where: { id }, data: {} });',
      'await db.prisma.booking.findMany({ where: { id } });',
      'await tx.$executeRawUnsafe(text);',
      "const ics = ['BEGIN:VEVENT', 'END:VEVENT'].join('\\r\\n');",
      "await tx.query('SAVEPOINT offer');",
    ].join('\n');
    expect(misplacedSql(join(SRC, 'sample.ts'), sample).map((hit) => hit.split('  ')[0])).toEqual([
      'src/sample.ts:4',
      'src/sample.ts:5',
      'src/sample.ts:7',
      'src/sample.ts:9',
    ]);
  });

  it('keeps SQL text and Prisma writes in *.store.ts and src/db/', () => {
    const misplaced = sourceFiles(SRC).flatMap((path) => misplacedSql(path));
    expect(misplaced, `move these into the domain's store:\n${misplaced.join('\n')}`).toEqual([]);
  });
});

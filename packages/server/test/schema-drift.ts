import internals from '@prisma/internals';
import type { SqlRunner } from '../src/db/database.js';

// @prisma/internals is CommonJS: take getDMMF from the default export.
const { getDMMF } = internals;

/** The parts of Prisma's DMMF the comparison reads (so tests can feed altered copies). */
export interface PrismaField {
  name: string;
  dbName?: string | null;
  kind: string;
  type: string;
  isList: boolean;
  isRequired: boolean;
  nativeType?: readonly unknown[] | null;
}
export interface PrismaModel {
  name: string;
  dbName: string | null;
  fields: readonly PrismaField[];
}
export interface PrismaIndex {
  model: string;
  type: string;
  dbName?: string | null;
  fields: readonly { name: string }[];
}
export interface PrismaSchema {
  models: readonly PrismaModel[];
  enums: readonly { name: string; dbName?: string | null; values: readonly { name: string; dbName?: string | null }[] }[];
  indexes: readonly PrismaIndex[];
}

export interface DbColumn {
  table: string;
  column: string;
  dataType: string;
  /** udt name; arrays have a leading underscore (_int2, _role). */
  udt: string;
  nullable: boolean;
}
export interface DbIndex {
  table: string;
  name: string;
  unique: boolean;
  primary: boolean;
  partial: boolean;
  columns: string[];
}
export interface DbSchema {
  columns: DbColumn[];
  enums: Record<string, string[]>;
  indexes: DbIndex[];
}

export async function readPrismaSchema(datamodel: string): Promise<PrismaSchema> {
  return (await getDMMF({ datamodel })).datamodel as unknown as PrismaSchema;
}

const IGNORED_TABLES = new Set(['schema_migrations']);

/** The public schema as the migrations left it. */
export async function readDbSchema(sql: SqlRunner): Promise<DbSchema> {
  const columns = await sql.query<DbColumn>(
    `SELECT c.table_name AS table, c.column_name AS column, c.data_type AS "dataType", c.udt_name AS udt,
            c.is_nullable = 'YES' AS nullable
       FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
      WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
      ORDER BY c.table_name, c.ordinal_position`,
  );
  const enumRows = await sql.query<{ name: string; labels: string[] }>(
    `SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = 'public' GROUP BY t.typname`,
  );
  const indexes = await sql.query<DbIndex>(
    `SELECT t.relname AS table, i.relname AS name, x.indisunique AS unique, x.indisprimary AS primary,
            x.indpred IS NOT NULL AS partial,
            array(SELECT a.attname::text FROM unnest(x.indkey) WITH ORDINALITY k(attnum, n)
                    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n) AS columns
       FROM pg_index x
       JOIN pg_class i ON i.oid = x.indexrelid
       JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = 'public'`,
  );
  return {
    columns: columns.filter((c) => !IGNORED_TABLES.has(c.table)),
    enums: Object.fromEntries(enumRows.map((e) => [e.name, e.labels])),
    indexes: indexes.filter((i) => !IGNORED_TABLES.has(i.table)),
  };
}

const SCALAR_UDT: Record<string, string> = {
  String: 'text',
  Int: 'int4',
  BigInt: 'int8',
  Boolean: 'bool',
  DateTime: 'timestamp',
  Json: 'jsonb',
  Float: 'float8',
  Decimal: 'numeric',
  Bytes: 'bytea',
};
const NATIVE_UDT: Record<string, string> = {
  Uuid: 'uuid',
  SmallInt: 'int2',
  Integer: 'int4',
  Text: 'text',
  Timestamptz: 'timestamptz',
  Timestamp: 'timestamp',
  Date: 'date',
  JsonB: 'jsonb',
};

function expectedUdt(field: PrismaField, schema: PrismaSchema): string {
  if (field.kind === 'enum') {
    const e = schema.enums.find((en) => en.name === field.type);
    return e?.dbName ?? field.type;
  }
  const native = field.nativeType?.[0];
  if (typeof native === 'string') return NATIVE_UDT[native] ?? native.toLowerCase();
  return SCALAR_UDT[field.type] ?? field.type.toLowerCase();
}

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Every difference between the Prisma schema and the database, one readable line each;
 * an empty list means they agree.
 */
export function compareSchema(prisma: PrismaSchema, db: DbSchema): string[] {
  const diffs: string[] = [];
  const tables = new Map<string, DbColumn[]>();
  for (const c of db.columns) tables.set(c.table, [...(tables.get(c.table) ?? []), c]);
  const mapped = new Map<string, Set<string>>();

  for (const model of prisma.models) {
    const table = model.dbName ?? model.name;
    const columns = tables.get(table);
    if (!columns) {
      diffs.push(`model ${model.name}: table "${table}" does not exist`);
      continue;
    }
    const columnNames = new Map<string, string>();
    for (const field of model.fields.filter((f) => f.kind === 'scalar' || f.kind === 'enum')) {
      const name = field.dbName ?? field.name;
      columnNames.set(field.name, name);
      const where = `${model.name}.${field.name} (${table}.${name})`;
      const column = columns.find((c) => c.column === name);
      if (!column) {
        diffs.push(`${where}: column does not exist`);
        continue;
      }
      const isArray = column.dataType === 'ARRAY';
      if (field.isList !== isArray) diffs.push(`${where}: Prisma ${field.isList ? 'list' : 'scalar'}, database ${isArray ? 'array' : 'scalar'}`);
      const udt = isArray ? column.udt.slice(1) : column.udt;
      const expected = expectedUdt(field, prisma);
      if (udt !== expected) diffs.push(`${where}: type ${field.type} expects ${expected}, database has ${udt}`);
      if (field.isRequired === column.nullable) {
        diffs.push(`${where}: Prisma ${field.isRequired ? 'required' : 'optional'}, database ${column.nullable ? 'NULL' : 'NOT NULL'}`);
      }
    }
    mapped.set(table, new Set(columnNames.values()));

    const dbIndexes = db.indexes.filter((i) => i.table === table);
    for (const index of prisma.indexes.filter((i) => i.model === model.name)) {
      const cols = index.fields.map((f) => columnNames.get(f.name) ?? f.name);
      const match = dbIndexes.find(
        (i) =>
          !i.partial &&
          same(i.columns, cols) &&
          (index.type === 'id' ? i.primary : index.type === 'unique' ? i.unique && !i.primary : !i.unique) &&
          (!index.dbName || index.type === 'id' || i.name === index.dbName),
      );
      if (!match) diffs.push(`model ${model.name}: ${index.type} index ${index.dbName ?? ''}(${cols.join(', ')}) missing in "${table}"`);
    }
    // Prisma cannot express partial indexes; full unique ones it must know (findUnique, upsert).
    for (const index of dbIndexes.filter((i) => i.unique && !i.primary && !i.partial)) {
      const known = prisma.indexes.some(
        (p) =>
          p.model === model.name &&
          p.type === 'unique' &&
          same(
            p.fields.map((f) => columnNames.get(f.name) ?? f.name),
            index.columns,
          ),
      );
      if (!known) diffs.push(`table ${table}: unique index ${index.name}(${index.columns.join(', ')}) missing in Prisma`);
    }
  }

  for (const [table, columns] of tables) {
    const known = mapped.get(table);
    if (!known) {
      if (!prisma.models.some((m) => (m.dbName ?? m.name) === table)) diffs.push(`table ${table}: no Prisma model`);
      continue;
    }
    for (const c of columns) if (!known.has(c.column)) diffs.push(`${table}.${c.column}: no Prisma field`);
  }

  for (const e of prisma.enums) {
    const name = e.dbName ?? e.name;
    const values = e.values.map((v) => v.dbName ?? v.name);
    const labels = db.enums[name];
    if (!labels) diffs.push(`enum ${e.name}: type "${name}" does not exist`);
    else if (!same(values, labels)) diffs.push(`enum ${e.name}: Prisma [${values.join(', ')}], database [${labels.join(', ')}]`);
  }
  for (const name of Object.keys(db.enums)) {
    if (!prisma.enums.some((e) => (e.dbName ?? e.name) === name)) diffs.push(`enum type ${name}: no Prisma enum`);
  }
  return diffs;
}

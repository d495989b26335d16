import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { createTestDatabase } from './databases.js';
import { compareSchema, readDbSchema, readPrismaSchema, type DbSchema, type PrismaModel, type PrismaSchema } from './schema-drift.js';

const SCHEMA_FILE = new URL('../prisma/schema.prisma', import.meta.url);

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Database;
let prisma: PrismaSchema;
let actual: DbSchema;

beforeAll(async () => {
  // Migrated here from empty, not copied from the template, so the test sees exactly what migrate() builds.
  database = await createTestDatabase({ empty: true });
  db = await openDatabase({ url: database.url, poolMax: 2 });
  await migrate(db.sql);
  [prisma, actual] = await Promise.all([readPrismaSchema(readFileSync(SCHEMA_FILE, 'utf8')), readDbSchema(db.sql)]);
});
afterAll(async () => {
  await db?.close();
  await database?.drop();
});

function withModel(name: string, change: (model: PrismaModel) => PrismaModel): PrismaSchema {
  return { ...prisma, models: prisma.models.map((m) => (m.name === name ? change(m) : m)) };
}

function withField(model: string, field: string, change: Record<string, unknown>): PrismaSchema {
  return withModel(model, (m) => ({ ...m, fields: m.fields.map((f) => (f.name === field ? { ...f, ...change } : f)) }));
}

describe('schema.prisma against the migrated database', () => {
  it('agrees on every table, column, type, nullability, enum and index', () => {
    expect(prisma.models.length).toBeGreaterThan(5);
    expect(compareSchema(prisma, actual)).toEqual([]);
  });

  it('covers the core tables', () => {
    const tables = new Set(actual.columns.map((c) => c.table));
    for (const table of [
      'users',
      'api_tokens',
      'locations',
      'resources',
      'availability_rules',
      'slots',
      'bookings',
      'audit_events',
      'idempotency_records',
    ]) {
      expect(tables).toContain(table);
    }
    expect(tables).not.toContain('schema_migrations');
  });
});

describe('compareSchema reports drift', () => {
  it('a renamed column', () => {
    expect(compareSchema(withField('Slot', 'startAt', { dbName: 'starts_at' }), actual)).toEqual([
      'Slot.startAt (slots.starts_at): column does not exist',
      'model Slot: normal index slots_location_start_idx(location_id, starts_at) missing in "slots"',
      'slots.start_at: no Prisma field',
    ]);
  });

  it('flipped nullability', () => {
    expect(compareSchema(withField('Location', 'address', { isRequired: true }), actual)).toEqual([
      'Location.address (locations.address): Prisma required, database NULL',
    ]);
  });

  it('a wrong type, a missing @db.Uuid and a list that is not one', () => {
    const changed = withField('Resource', 'capacity', { type: 'Boolean' });
    const noUuid = withField('Resource', 'locationId', { nativeType: null });
    const notList = withField('User', 'roles', { isList: false });
    expect(compareSchema(changed, actual)).toEqual(['Resource.capacity (resources.capacity): type Boolean expects bool, database has int4']);
    expect(compareSchema(noUuid, actual)).toEqual(['Resource.locationId (resources.location_id): type String expects text, database has uuid']);
    expect(compareSchema(notList, actual)).toEqual(['User.roles (users.roles): Prisma scalar, database array']);
  });

  it('a model without its table, and a table without its model', () => {
    const renamed = withModel('AuditEvent', (m) => ({ ...m, dbName: 'audit_log' }));
    expect(compareSchema(renamed, actual)).toEqual(['model AuditEvent: table "audit_log" does not exist', 'table audit_events: no Prisma model']);
  });

  it('a column the Prisma model does not know', () => {
    const dropped = withModel('Booking', (m) => ({ ...m, fields: m.fields.filter((f) => f.name !== 'notes') }));
    expect(compareSchema(dropped, actual)).toEqual(['bookings.notes: no Prisma field']);
  });

  it('enum values that differ', () => {
    const enums = prisma.enums.map((e) => (e.name === 'SlotStatus' ? { ...e, values: e.values.filter((v) => v.name !== 'BLOCKED') } : e));
    expect(compareSchema({ ...prisma, enums }, actual)).toEqual([
      'enum SlotStatus: Prisma [OPEN, PARTIAL, FULL, CANCELLED], database [OPEN, PARTIAL, FULL, BLOCKED, CANCELLED]',
    ]);
  });

  it('a unique key only one side has', () => {
    const indexes = prisma.indexes.filter((i) => !(i.model === 'ApiToken' && i.type === 'unique'));
    expect(compareSchema({ ...prisma, indexes }, actual)).toEqual([
      'table api_tokens: unique index api_tokens_token_hash_key(token_hash) missing in Prisma',
    ]);
  });
});

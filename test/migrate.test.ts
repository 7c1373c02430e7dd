import { beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/client.js';
import { loadMigrations, type Migration, migrate, pendingMigrations } from '../src/db/migrate.js';
import { freshDatabase } from './helpers/database.js';

let db: Database;
const real = loadMigrations();

function migration(name: string, sql: string): Migration {
  return { name, sql, checksum: `checksum-of-${sql}` };
}

async function tables(): Promise<string[]> {
  const rows = await db.prisma.$queryRaw<{ name: string }[]>`
    SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`;
  return rows.map((row) => row.name);
}

beforeAll(async () => {
  db = await freshDatabase();
});

describe('the migrator', () => {
  it('applies every migration to an empty database, then finds nothing left to do', async () => {
    expect(await pendingMigrations(db)).toEqual(real.map((m) => m.name));
    expect(await migrate(db)).toEqual(real.map((m) => m.name));
    expect(await pendingMigrations(db)).toEqual([]);
    expect(await migrate(db)).toEqual([]);
    expect(await tables()).toEqual(expect.arrayContaining(['Contact', 'Message', '_wagraph_migrations']));
    const recorded = await db.prisma.$queryRaw<{ name: string }[]>`SELECT name FROM "_wagraph_migrations"`;
    expect(recorded.map((row) => row.name)).toEqual(real.map((m) => m.name));
  });

  it('applies a new migration once, and records it', async () => {
    const next = [...real, migration('99990101000000_extra', 'CREATE TABLE "Extra" (id int PRIMARY KEY);')];
    expect(await migrate(db, next)).toEqual(['99990101000000_extra']);
    expect(await migrate(db, next)).toEqual([]);
    expect(await tables()).toContain('Extra');
  });

  it('rolls back a failing migration completely and does not record it', async () => {
    const broken = migration(
      '99990102000000_broken',
      'CREATE TABLE "HalfDone" (id int); INSERT INTO "NoSuchTable" VALUES (1);',
    );
    const list = [...real, migration('99990101000000_extra', 'CREATE TABLE "Extra" (id int PRIMARY KEY);'), broken];
    await expect(migrate(db, list)).rejects.toThrow(/^Migration 99990102000000_broken failed: .*NoSuchTable/);
    expect(await tables()).not.toContain('HalfDone');
    expect(await pendingMigrations(db, list)).toEqual(['99990102000000_broken']);
  });

  it('refuses to run when an applied migration was edited', async () => {
    const edited = [...real, migration('99990101000000_extra', 'CREATE TABLE "Extra" (id bigint PRIMARY KEY);')];
    await expect(migrate(db, edited)).rejects.toThrow(
      'Migration 99990101000000_extra was edited after it was applied; add a new migration instead',
    );
  });

  it('refuses to run an older version against a database migrated by a newer one', async () => {
    await expect(migrate(db, real)).rejects.toThrow(
      'The database has migration 99990101000000_extra, which this version of wagraph does not know',
    );
  });
});

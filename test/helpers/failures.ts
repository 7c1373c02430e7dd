// Failures injected into the database, to prove that a mutation which fails half-way
// (after some of its statements have run) leaves nothing behind.
import { randomBytes } from 'node:crypto';
import type { Database } from '../../src/db/client.js';

/**
 * Makes every INSERT into `table` whose `column` equals `value` fail with an error raised
 * by the database (a trigger), until the returned function is called. Only rows with that
 * value are refused, so tests running at the same time on the same database are unaffected.
 */
export async function failInsertsWhere(
  db: Database,
  table: string,
  column: string,
  value: string,
): Promise<() => Promise<void>> {
  const name = `test_fail_${randomBytes(6).toString('hex')}`;
  const literal = value.replace(/'/g, "''");
  await db.prisma.$executeRawUnsafe(
    `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       IF NEW."${column}"::text = '${literal}' THEN RAISE EXCEPTION 'injected failure (test)'; END IF;
       RETURN NEW;
     END $$`,
  );
  await db.prisma.$executeRawUnsafe(
    `CREATE TRIGGER ${name} BEFORE INSERT ON "${table}" FOR EACH ROW EXECUTE FUNCTION ${name}()`,
  );
  return async () => {
    await db.prisma.$executeRawUnsafe(`DROP TRIGGER ${name} ON "${table}"`);
    await db.prisma.$executeRawUnsafe(`DROP FUNCTION ${name}()`);
  };
}

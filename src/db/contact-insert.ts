// The bulk contact insert of createContacts, run in the mutation's transaction.
import { type ContactStatus, Prisma } from '../generated/prisma/client.js';
import type { TenantSql } from './tenant-sql.js';

/** One contact to insert; an omitted status or attributes takes the column default. */
export interface NewContact {
  name: string;
  phone: string;
  status?: ContactStatus | undefined;
  attributes?: Prisma.InputJsonObject | undefined;
}

/**
 * Inserts `rows` with `ids` into the organization, skipping those whose phone is taken;
 * returns the phones inserted. One hand-written statement over arrays (unnest) rather than
 * Prisma's createManyAndReturn: Prisma's query compiler (WebAssembly) grows its memory to the
 * largest statement it has compiled and never gives it back, so one 1,000-row insert kept
 * several times this statement's memory for good, enough under load to take a gateway past
 * its memory budget (figures in bench/ANALYSIS.md). Still one statement for any number of rows.
 */
export function insertContacts(
  sql: TenantSql,
  ids: readonly string[],
  rows: readonly NewContact[],
): Promise<{ phone: string }[]> {
  return sql.query<{ phone: string }>(
    (org) => Prisma.sql`
      INSERT INTO "Contact" ("id", "organizationId", "name", "phone", "status", "attributes")
      SELECT r."id", ${org}, r."name", r."phone",
        -- An omitted status or attributes takes the column default (prisma/schema.prisma).
        COALESCE(r."status"::"ContactStatus", 'ACTIVE'), COALESCE(r."attributes"::jsonb, '{}')
      FROM unnest(
        ${ids}::uuid[],
        ${rows.map((row) => row.name)}::text[],
        ${rows.map((row) => row.phone)}::text[],
        ${rows.map((row) => row.status ?? null)}::text[],
        ${rows.map((row) => (row.attributes === undefined ? null : JSON.stringify(row.attributes)))}::text[]
      ) AS r("id", "name", "phone", "status", "attributes")
      ON CONFLICT DO NOTHING
      RETURNING "phone"`,
  );
}

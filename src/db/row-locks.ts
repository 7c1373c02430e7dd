// Locking what a mutation validated. Mutations run under READ COMMITTED: a row found in
// validation can be deleted by a concurrent request before the mutation writes, and the
// write then fails deep in the database (a foreign-key violation, "record not found") as an
// unexpected error. So validation reads the rows it accepts with a row lock, held until the
// transaction ends: FOR KEY SHARE for a row the mutation only refers to (it blocks a delete
// but not an ordinary update), FOR UPDATE for a row the mutation itself updates or deletes.
// A concurrent delete then either waits for this transaction or has already removed the
// row, which validation reports as NOT_FOUND. Rows are locked in id order so that two
// requests locking overlapping sets take their locks in the same order.
// https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-ROWS
import { Prisma } from '../generated/prisma/client.js';
import type { TenantSql } from './tenant-sql.js';

/** The table behind each GraphQL type that a mutation can name by id. */
const TABLES = {
  Contact: 'Contact',
  List: 'ContactList',
  Tag: 'Tag',
  Conversation: 'Conversation',
  Message: 'Message',
  OrganizationMember: 'OrganizationMember',
  ApiKey: 'ApiKey',
  WhatsAppChannel: 'WhatsAppChannel',
} as const;

export type LockableType = keyof typeof TABLES;

/** `share`: the mutation refers to the row; `update`: it updates or deletes it. */
export type RowLock = 'share' | 'update';

const CLAUSES: Record<RowLock, Prisma.Sql> = {
  share: Prisma.raw('FOR KEY SHARE'),
  update: Prisma.raw('FOR UPDATE'),
};

/** Which of `ids` exist in the organization, each now locked until the transaction ends. */
export type RowLocker = (typename: LockableType, ids: readonly string[], lock: RowLock) => Promise<Set<string>>;

/** `sql`: the mutation's transaction (transactionSql). */
export function rowLocker(sql: TenantSql): RowLocker {
  return async (typename, ids, lock) => {
    if (ids.length === 0) return new Set();
    const rows = await sql.query<{ id: string }>(
      (org) => Prisma.sql`
        SELECT "id"::text AS "id" FROM ${Prisma.raw(`"${TABLES[typename]}"`)}
        WHERE "organizationId" = ${org} AND "id" = ANY(${ids}::uuid[])
        ORDER BY "id"
        ${CLAUSES[lock]}`,
    );
    return new Set(rows.map((row) => row.id));
  };
}

/**
 * A lock on a name within the organization (a transaction-scoped advisory lock on a hash of
 * the organization and `key`), held until the transaction ends: for what has no row to lock
 * yet, such as a WhatsApp message id whose message may be inserted by one transaction while
 * another records a status for it (src/whatsapp/process.ts).
 */
export async function lockKey(sql: TenantSql, key: string): Promise<void> {
  await sql.query<{ locked: number }>(
    (org) => Prisma.sql`
      SELECT 1 AS "locked" FROM (SELECT pg_advisory_xact_lock(hashtextextended(${org}::text || ':' || ${key}::text, 0))) AS "l"`,
  );
}

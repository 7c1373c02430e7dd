// Where SQL lives. Request code reaches the database in two ways, both confined to the
// viewer's organization:
//
// 1. Prisma model queries on the tenant client (`ctx.db`, a mutation's `tx`): the default.
//    The client adds the organization to every model operation (./tenant.ts) and refuses
//    raw SQL ($queryRaw, $executeRaw, their Unsafe forms, $queryRawTyped).
// 2. Hand-written SQL, where Prisma cannot say it or costs too much (batched keyset pages,
//    counts, row locks, the bulk contact insert), only through this module: a statement is
//    a function of the organization's bound parameter, `(org) => Prisma.sql\`… = ${org}\``,
//    and one that does not bind it is refused before it is sent. It lives in src/loaders/
//    (reads, outside any transaction) and in src/db/row-locks.ts, src/db/contact-insert.ts
//    and src/jobs/enqueue.ts (inside a mutation's transaction), src/whatsapp/process-batch.ts
//    (webhook deliveries processed set-based, in the job's transaction) and
//    src/whatsapp/delivery-insert.ts (a webhook's rows with their jobs, one statement).
//
// The one exception in request code is authentication (src/auth/credential-lookup.ts):
// it reads before there is an organization, since the credential is what names it.
// Administration code outside requests is outside the rule: opening, migrating and
// seeding the database (src/db/pglite.ts, postgres.ts, migrate.ts, seed.ts, setup.ts,
// health.ts, pglite-pool.ts), listing parked jobs (src/jobs/failed.ts), bench/ and
// test/helpers/. test/unit/sql-location.test.ts fails when SQL appears anywhere else in src/.
//
// Prisma's typed SQL (`prisma/sql/*.sql`, `$queryRawTyped`) does not fit these statements:
// each is assembled from its connection's table, ordering, filters and cursors, and typed
// SQL only takes whole static files with parameters.
import { AsyncLocalStorage } from 'node:async_hooks';
import { Prisma } from '../generated/prisma/client.js';
import type { ConnectionShare } from './connection-share.js';
import type { Database } from './database.js';
import type { TenantTransaction } from './tenant.js';

/** A statement of one organization: built around `org`, the organization id as a bound uuid parameter. */
export type TenantStatement = (org: Prisma.Sql) => Prisma.Sql;

export class TenantSqlError extends Error {
  override name = 'TenantSqlError';
}

/** The statement `build` makes for `organizationId`; throws if it does not bind the organization. */
export function tenantStatement(organizationId: string, build: TenantStatement): Prisma.Sql {
  const statement = build(Prisma.sql`${organizationId}::uuid`);
  if (!statement.values.includes(organizationId)) {
    throw new TenantSqlError(`A statement of request code must bind the organization's id: ${statement.text}`);
  }
  return statement;
}

/** Hand-written SQL run for one organization. */
export interface TenantSql {
  readonly organizationId: string;
  query<Row>(build: TenantStatement): Promise<Row[]>;
}

/**
 * Outside a transaction: straight to the driver (Database.query), each statement taking its
 * place in the request's connection share.
 */
export function tenantSql(
  organizationId: string,
  database: Pick<Database, 'query'>,
  share: ConnectionShare,
): TenantSql {
  return {
    organizationId,
    query: async <Row>(build: TenantStatement) => {
      const statement = tenantStatement(organizationId, build);
      return share.run(() => database.query<Row>(statement));
    },
  };
}

// The tenant client refuses raw SQL unless it is sent from here, for its own organization:
// the one way a transaction's connection takes hand-written SQL.
const sending = new AsyncLocalStorage<string>();

/** Whether a raw statement on the tenant client of `organizationId` was sent by transactionSql. */
export function isSentByTenantSql(organizationId: string): boolean {
  return sending.getStore() === organizationId;
}

/**
 * Inside a mutation's transaction `tx`, on its connection (or a transaction of the root client
 * that writes rows of several organizations, such as a webhook delivery's: one per organization).
 */
export function transactionSql(tx: Pick<TenantTransaction, '$queryRaw'>, organizationId: string): TenantSql {
  return {
    organizationId,
    query: async <Row>(build: TenantStatement) => {
      const statement = tenantStatement(organizationId, build);
      // Prisma's promises are lazy: the statement is sent when awaited, so await it inside.
      return sending.run(organizationId, async () => (await tx.$queryRaw<Row[]>(statement)) as Row[]);
    },
  };
}

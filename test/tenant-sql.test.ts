// Raw SQL in request code goes through src/db/tenant-sql.ts, which binds the organization
// in every statement; the tenant client refuses raw SQL sent any other way.
import { beforeAll, describe, expect, it } from 'vitest';
import { ConnectionShare } from '../src/db/connection-share.js';
import { TenantScopeError, tenantClient } from '../src/db/tenant.js';
import { TenantSqlError, tenantSql, transactionSql } from '../src/db/tenant-sql.js';
import { Prisma } from '../src/generated/prisma/client.js';
import { createTestClient, type TestClient } from './helpers/client.js';
import { createContact, createOrganization, type TestOrganization } from './helpers/factories.js';
import { recordStatements } from './helpers/record-statements.js';

let client: TestClient;
let a: TestOrganization;
let b: TestOrganization;
let contactOfA: string;

beforeAll(async () => {
  client = await createTestClient();
  a = await createOrganization(client.db, 'Raw A');
  b = await createOrganization(client.db, 'Raw B');
  contactOfA = (await createContact(client.db, a.id)).id;
  await createContact(client.db, b.id);
});

const contactIds = (org: Prisma.Sql) =>
  Prisma.sql`SELECT "id"::text AS "id" FROM "Contact" WHERE "organizationId" = ${org}`;

describe('the tenant client', () => {
  it('refuses every raw operation, outside and inside a transaction, and sends nothing', async () => {
    const db = tenantClient(client.db.prisma, a.id);
    const { statements } = await recordStatements(async () => {
      const attempts = [
        () => db.$queryRaw`SELECT 1`,
        () => db.$queryRaw(Prisma.sql`SELECT 1 FROM "Contact" WHERE "organizationId" = ${a.id}::uuid`),
        () => db.$executeRaw`DELETE FROM "Contact"`,
        () => db.$queryRawUnsafe('SELECT 1'),
        () => db.$executeRawUnsafe('DELETE FROM "Contact"'),
      ];
      for (const attempt of attempts) {
        await expect(attempt()).rejects.toThrow(TenantScopeError);
        await expect(attempt()).rejects.toThrow(/src\/db\/tenant-sql\.ts/);
      }
      await expect(
        db.$transaction(async (tx) => {
          await tx.$queryRaw`SELECT 1`;
        }),
      ).rejects.toThrow(TenantScopeError);
      await expect(db.$transaction(async (tx) => tx.$executeRawUnsafe('SELECT 1'))).rejects.toThrow(TenantScopeError);
    });
    // The transaction's BEGIN and ROLLBACK, and no raw statement.
    expect(statements.filter((sql) => !/^(BEGIN|ROLLBACK)/.test(sql))).toEqual([]);
    expect(await client.db.prisma.contact.count({ where: { organizationId: a.id } })).toBe(1);
  });

  it('takes raw SQL in a transaction through transactionSql, for its own organization only', async () => {
    const db = tenantClient(client.db.prisma, a.id);
    const rows = await db.$transaction((tx) => transactionSql(tx, a.id).query<{ id: string }>(contactIds));
    expect(rows).toEqual([{ id: contactOfA }]);
    // A statement bound to organization B, sent on A's client, is refused like any other raw SQL.
    await expect(db.$transaction((tx) => transactionSql(tx, b.id).query(contactIds))).rejects.toThrow(TenantScopeError);
  });
});

describe('tenantSql and transactionSql', () => {
  it('refuse a statement that does not bind the organization, before sending it', async () => {
    const share = new ConnectionShare(1);
    const unbound = () => Prisma.sql`SELECT "id" FROM "Contact"`;
    // Binding a different value where the organization should be is no better.
    const otherValue = () => Prisma.sql`SELECT "id" FROM "Contact" WHERE "organizationId" = ${b.id}::uuid`;
    const { statements } = await recordStatements(async () => {
      for (const build of [unbound, otherValue]) {
        await expect(tenantSql(a.id, client.db, share).query(build)).rejects.toThrow(TenantSqlError);
        await expect(
          tenantClient(client.db.prisma, a.id).$transaction((tx) => transactionSql(tx, a.id).query(build)),
        ).rejects.toThrow(TenantSqlError);
      }
    });
    expect(statements.filter((sql) => !/^(BEGIN|ROLLBACK)/.test(sql))).toEqual([]);
  });

  it('run a statement that binds it, with the organization as a parameter', async () => {
    const { result, statements } = await recordStatements(() =>
      tenantSql(b.id, client.db, new ConnectionShare(1)).query<{ id: string }>(contactIds),
    );
    expect(result).toHaveLength(1);
    expect(result[0]!.id).not.toBe(contactOfA);
    expect(statements).toEqual(['SELECT "id"::text AS "id" FROM "Contact" WHERE "organizationId" = $1::uuid']);
  });
});

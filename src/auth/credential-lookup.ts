// The statements of authentication: the one exception to src/db/tenant-sql.ts in request
// code, because they run before there is an organization (the credential is what names
// it). They are hand-written SQL sent straight to the driver (Database.query), not Prisma
// queries: they run on every request, and Prisma's query building and result mapping cost
// more than the statement itself (measured in bench/ANALYSIS.md).
import type { Database } from '../db/database.js';
import { unobserved } from '../db/statement-observer.js';
import { Prisma } from '../generated/prisma/client.js';

export type Queryable = Pick<Database, 'query'>;

export interface MemberRow {
  memberId: string;
  organizationId: string;
  accessLevel: 'OWNER' | 'MEMBER';
  /** The permissions of all the member's roles (with repeats). */
  permissions: string[];
}

export interface ApiKeyRow extends MemberRow {
  id: string;
  keyHash: string;
  lastUsedAt: Date | null;
}

/** The columns of a MemberRow, from `OrganizationMember m` joined to MEMBER_PERMISSIONS. */
const MEMBER_COLUMNS = Prisma.sql`m."id" AS "memberId", m."organizationId", m."accessLevel"::text AS "accessLevel", p."permissions"`;

/** The permissions of member `m`'s roles, as `p."permissions"`. */
const MEMBER_PERMISSIONS = Prisma.sql`CROSS JOIN LATERAL (
    SELECT COALESCE(array_agg(permission), '{}') AS "permissions"
    FROM "RoleAssignment" a
    JOIN "OrganizationRole" r ON r."organizationId" = a."organizationId" AND r."id" = a."roleId"
    CROSS JOIN unnest(r."permissions") AS permission
    WHERE a."organizationId" = m."organizationId" AND a."memberId" = m."id"
  ) p`;

/** The active keys whose lookup prefix is `prefix`, with their members: candidates for a presented secret. */
export function apiKeysWithPrefix(database: Queryable, prefix: string): Promise<ApiKeyRow[]> {
  return database.query<ApiKeyRow>(Prisma.sql`
    SELECT k."id", k."keyHash", k."lastUsedAt", ${MEMBER_COLUMNS}
    FROM "ApiKey" k
    JOIN "OrganizationMember" m ON m."organizationId" = k."organizationId" AND m."id" = k."memberId"
    ${MEMBER_PERMISSIONS}
    WHERE k."prefix" = ${prefix} AND k."revokedAt" IS NULL`);
}

/**
 * Records that key `id` was used now. Bookkeeping, not part of the request: never delays or
 * fails it, and stays out of the request's observed statements.
 */
export function touchApiKey(database: Queryable, id: string, organizationId: string): void {
  void unobserved(() =>
    database
      .query(
        Prisma.sql`UPDATE "ApiKey" SET "lastUsedAt" = now(), "updatedAt" = now()
          WHERE "id" = ${id}::uuid AND "organizationId" = ${organizationId}::uuid`,
      )
      .catch(() => {}),
  );
}

/** Member `memberId` of organization `organizationId`, if it is one; both ids are UUIDs. */
export async function memberOfOrganization(
  database: Queryable,
  memberId: string,
  organizationId: string,
): Promise<MemberRow | undefined> {
  const [member] = await database.query<MemberRow>(Prisma.sql`
    SELECT ${MEMBER_COLUMNS}
    FROM "OrganizationMember" m
    ${MEMBER_PERMISSIONS}
    WHERE m."id" = ${memberId}::uuid AND m."organizationId" = ${organizationId}::uuid`);
  return member;
}

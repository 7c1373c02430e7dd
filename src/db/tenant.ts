// Tenant isolation by construction. A request never sees the root PrismaClient: its
// context holds `tenantClient(prisma, organizationId)`, a client extension that adds the
// organization to every model operation it runs, whatever the resolver wrote:
//
// - reads, updates, deletes, counts: `where` gains `AND organizationId = <viewer's org>`
//   (for the Organization model itself: `AND id = <viewer's org>`);
// - creates: `organizationId` is set on every row; updates cannot change it.
//
// Relations reached from a scoped row stay in the organization because every required
// relation is a composite foreign key on (organizationId, id) (prisma/schema.prisma).
// Raw SQL is the one thing this cannot rewrite, so the client refuses it: hand-written SQL
// goes through ./tenant-sql.ts, which binds the organization in every statement.
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import { isSentByTenantSql } from './tenant-sql.js';

type Args = Record<string, unknown> & { where?: Record<string, unknown>; data?: unknown };

const WHERE_OPERATIONS = new Set([
  'findUnique',
  'findUniqueOrThrow',
  'findFirst',
  'findFirstOrThrow',
  'findMany',
  'count',
  'aggregate',
  'groupBy',
  'update',
  'updateMany',
  'updateManyAndReturn',
  'delete',
  'deleteMany',
  'upsert',
]);
const CREATE_OPERATIONS = new Set(['create', 'createMany', 'createManyAndReturn']);
const UPDATE_OPERATIONS = new Set(['update', 'updateMany', 'updateManyAndReturn']);

export class TenantScopeError extends Error {
  override name = 'TenantScopeError';
}

function scopeWhere(model: string, where: Record<string, unknown> | undefined, organizationId: string) {
  const condition = model === 'Organization' ? { id: organizationId } : { organizationId };
  const and = where?.AND === undefined ? [] : Array.isArray(where.AND) ? where.AND : [where.AND];
  return { ...where, AND: [...and, condition] };
}

function withOrganization(model: string, data: unknown, organizationId: string): unknown {
  if (model === 'Organization') throw new TenantScopeError('Organizations cannot be created from a request');
  if (Array.isArray(data)) return data.map((row) => withOrganization(model, row, organizationId));
  return { ...(data as object), organizationId };
}

function withoutOrganization(data: unknown): unknown {
  if (data === null || typeof data !== 'object') return data;
  const { organizationId: _ignored, organization: _relation, ...rest } = data as Record<string, unknown>;
  return rest;
}

export function tenantClient(prisma: PrismaClient, organizationId: string) {
  return prisma.$extends({
    name: 'tenant',
    query: {
      // Raw operations ($queryRaw, $executeRaw, their Unsafe forms, $queryRawTyped) have no model.
      $allOperations({ model, operation, args, query }) {
        if (model === undefined && !isSentByTenantSql(organizationId)) {
          throw new TenantScopeError(
            `${operation} is not available on the tenant client: hand-written SQL goes through src/db/tenant-sql.ts, which binds the organization`,
          );
        }
        return query(args);
      },
      $allModels: {
        $allOperations({ model, operation, args, query }) {
          const scoped: Args = { ...(args as Args) };
          if (WHERE_OPERATIONS.has(operation)) scoped.where = scopeWhere(model, scoped.where, organizationId);
          if (CREATE_OPERATIONS.has(operation)) scoped.data = withOrganization(model, scoped.data, organizationId);
          if (UPDATE_OPERATIONS.has(operation)) scoped.data = withoutOrganization(scoped.data);
          if (operation === 'upsert') {
            scoped.create = withOrganization(model, scoped.create, organizationId);
            scoped.update = withoutOrganization(scoped.update);
          }
          if (!WHERE_OPERATIONS.has(operation) && !CREATE_OPERATIONS.has(operation)) {
            throw new TenantScopeError(`Operation ${model}.${operation} is not tenant-scoped`);
          }
          return query(scoped as typeof args);
        },
      },
    },
  });
}

export type TenantClient = ReturnType<typeof tenantClient>;
/** The transaction client a TenantClient's `$transaction(async (tx) => …)` hands out. */
export type TenantTransaction = Parameters<Parameters<TenantClient['$transaction']>[0]>[0];
export type { Prisma };

// The per-request loaders. A new Loaders object is made for every request (src/context.ts),
// so batches and caches never outlive the request or cross organizations.
import { Prisma } from '../generated/prisma/client.js';
import type { TenantClient } from '../db/tenant.js';
import type { TenantSql } from '../db/tenant-sql.js';
import { ConnectionLoaders } from './connections.js';
import { NodeLoaders } from './nodes.js';
import { type ConversationCriteria, conversationCriteriaSql } from './sources.js';

export class Loaders {
  connections: ConnectionLoaders;
  nodes: NodeLoaders;

  /** `db` is the request's tenant-scoped Prisma client; `sql` runs the loaders' own SQL. */
  constructor(
    private readonly db: TenantClient,
    private readonly sql: TenantSql,
  ) {
    this.connections = new ConnectionLoaders(sql);
    this.nodes = new NodeLoaders(db, sql);
  }

  /**
   * Which of the conversations `ids` meet `criteria` (a ConversationFilter): one statement,
   * for a subscription deciding which of a batch of events its filtered inbox shows.
   */
  async conversationsMatching(ids: readonly string[], criteria: ConversationCriteria): Promise<Set<string>> {
    const rows = await this.sql.query<{ id: string }>((org) => {
      const conditions = conversationCriteriaSql(criteria, org).map((condition) => Prisma.sql` AND ${condition}`);
      return Prisma.sql`
        SELECT t."id"::text AS "id" FROM "Conversation" t
        WHERE t."organizationId" = ${org} AND t."id" = ANY(${[...ids]}::uuid[])${conditions.length > 0 ? Prisma.join(conditions, '') : Prisma.empty}`;
    });
    return new Set(rows.map((row) => row.id));
  }

  /** Forgets everything loaded so far: after a mutation, what was read before is stale. */
  clear(): void {
    this.connections = new ConnectionLoaders(this.sql);
    this.nodes = new NodeLoaders(this.db, this.sql);
  }
}

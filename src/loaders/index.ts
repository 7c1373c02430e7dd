// The per-request loaders. A new Loaders object is made for every request (src/context.ts),
// so batches and caches never outlive the request or cross organizations.
import type { TenantClient } from '../db/tenant.js';
import type { TenantSql } from '../db/tenant-sql.js';
import { ConnectionLoaders } from './connections.js';
import { NodeLoaders } from './nodes.js';

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

  /** Forgets everything loaded so far: after a mutation, what was read before is stale. */
  clear(): void {
    this.connections = new ConnectionLoaders(this.sql);
    this.nodes = new NodeLoaders(this.db, this.sql);
  }
}

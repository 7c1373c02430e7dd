// The per-request loaders. A new Loaders object is made for every request (src/context.ts),
// so batches and caches never outlive the request or cross organizations.
import type { Database } from '../db/client.js';
import type { TenantClient } from '../db/tenant.js';
import { ConnectionLoaders } from './connections.js';
import { NodeLoaders } from './nodes.js';

export class Loaders {
  connections: ConnectionLoaders;
  nodes: NodeLoaders;

  /**
   * `db` is the request's tenant-scoped Prisma client; `query` runs the loaders' own SQL,
   * every statement of which binds `organizationId`.
   */
  constructor(
    private readonly db: TenantClient,
    private readonly query: Database['query'],
    private readonly organizationId: string,
  ) {
    this.connections = new ConnectionLoaders(query, organizationId);
    this.nodes = new NodeLoaders(db, query, organizationId);
  }

  /** Forgets everything loaded so far: after a mutation, what was read before is stale. */
  clear(): void {
    this.connections = new ConnectionLoaders(this.query, this.organizationId);
    this.nodes = new NodeLoaders(this.db, this.query, this.organizationId);
  }
}

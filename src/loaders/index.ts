// The per-request loaders. A new Loaders object is made for every request (src/context.ts),
// so batches and caches never outlive the request or cross organizations.
import type { TenantClient } from '../db/tenant.js';
import { ConnectionLoaders } from './connections.js';
import { NodeLoaders } from './nodes.js';

export class Loaders {
  connections: ConnectionLoaders;
  nodes: NodeLoaders;

  constructor(
    private readonly db: TenantClient,
    private readonly organizationId: string,
  ) {
    this.connections = new ConnectionLoaders(db, organizationId);
    this.nodes = new NodeLoaders(db);
  }

  /** Forgets everything loaded so far: after a mutation, what was read before is stale. */
  clear(): void {
    this.connections = new ConnectionLoaders(this.db, this.organizationId);
    this.nodes = new NodeLoaders(this.db);
  }
}

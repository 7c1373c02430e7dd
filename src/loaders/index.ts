// The per-request loaders. A new Loaders object is made for every request (src/context.ts),
// so batches and caches never outlive the request or cross organizations.
import type { TenantClient } from '../db/tenant.js';
import { ConnectionLoaders } from './connections.js';
import { NodeLoaders } from './nodes.js';

export class Loaders {
  readonly connections: ConnectionLoaders;
  readonly nodes: NodeLoaders;

  constructor(db: TenantClient, organizationId: string) {
    this.connections = new ConnectionLoaders(db, organizationId);
    this.nodes = new NodeLoaders(db);
  }
}

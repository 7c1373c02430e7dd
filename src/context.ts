// The per-request context: who is asking, the database as that organization sees it, and
// the request's own loaders. A fresh object per request; nothing in it is shared.
import type { AuthenticatedMember } from './auth/authenticate.js';
import type { Database } from './db/client.js';
import type { LiveSubscriptions } from './events/subscriptions.js';
import { ConnectionShare, type PoolShares } from './db/connection-share.js';
import { tenantClient, type TenantClient } from './db/tenant.js';
import { tenantSql } from './db/tenant-sql.js';
import { Loaders } from './loaders/index.js';
import type { Logger } from './logger.js';
import type { SecretBox } from './secrets.js';

export interface Context {
  requestId: string;
  log: Logger;
  viewer: AuthenticatedMember;
  /** Authenticates the request's credential again, as it stands now (subscriptions ask every few seconds). */
  recheck: () => Promise<AuthenticatedMember>;
  /** The change feed's live side: subscriptions follow it, and mutations announce their commits to it. */
  subscriptions: LiveSubscriptions;
  /** Every query through it is confined to the viewer's organization (src/db/tenant.ts). */
  db: TenantClient;
  loaders: Loaders;
  /** The request's share of the database pool: every statement of its execution goes through it. */
  connections: ConnectionShare;
  /** Active API keys one member may hold (MAX_API_KEYS_PER_MEMBER). */
  maxApiKeysPerMember: number;
  /** Seals the WhatsApp channels' secrets; unset: channels cannot be connected (SECRETS_KEY). */
  secrets: SecretBox | undefined;
}

export const DEFAULT_MAX_API_KEYS_PER_MEMBER = 10;

export interface ContextOptions {
  database: Database;
  viewer: AuthenticatedMember;
  recheck: () => Promise<AuthenticatedMember>;
  subscriptions: LiveSubscriptions;
  requestId: string;
  log: Logger;
  maxApiKeysPerMember?: number | undefined;
  secrets?: SecretBox | undefined;
  /** Statements of the request that may hold a pool connection at once (DB_MAX_CONNECTIONS_PER_REQUEST). */
  maxConnections: number;
  /** The process's pool, shared fairly between organizations; unset: no pool-wide bound. */
  poolShares?: PoolShares | undefined;
}

export function createContext({
  database,
  viewer,
  recheck,
  subscriptions,
  requestId,
  log,
  maxApiKeysPerMember,
  secrets,
  maxConnections,
  poolShares,
}: ContextOptions): Context {
  const db = tenantClient(database.prisma, viewer.organizationId);
  const connections = new ConnectionShare(
    maxConnections,
    poolShares && { shares: poolShares, organizationId: viewer.organizationId },
  );
  // The loaders' own SQL takes its place here; Prisma's statements take theirs in the driver
  // adapter (src/db/driver-adapter.ts), inside the same share.
  const sql = tenantSql(viewer.organizationId, database, connections);
  return {
    requestId,
    log,
    viewer,
    recheck,
    subscriptions,
    db,
    loaders: new Loaders(db, sql),
    connections,
    maxApiKeysPerMember: maxApiKeysPerMember ?? DEFAULT_MAX_API_KEYS_PER_MEMBER,
    secrets,
  };
}

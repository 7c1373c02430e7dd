// The places a request's statements take in the pool are given back however a transaction
// ends, including when its COMMIT fails (a connection that died mid-transaction): a place
// never given back would shrink the organization's share of the pool for good, and on the
// embedded database (one connection) stop every organization.
import type { SqlDriverAdapterFactory, SqlQuery } from '@prisma/driver-adapter-utils';
import { describe, expect, it } from 'vitest';
import { ConnectionShare, createPoolShares, withConnectionShare } from '../src/db/connection-share.js';
import { observedFactory } from '../src/db/driver-adapter.js';

/** A driver whose transactions fail to COMMIT, as when the connection died in between. */
function driverWhoseCommitFails(ended: string[]): SqlDriverAdapterFactory {
  const transaction = {
    provider: 'postgres',
    adapterName: 'commit-fails',
    options: { usePhantomQuery: false },
    async executeRaw(query: SqlQuery) {
      if (query.sql === 'COMMIT') throw new Error('Connection terminated unexpectedly');
      return 0;
    },
    async queryRaw() {
      return { columnNames: [], columnTypes: [], rows: [] };
    },
    async commit() {
      ended.push('commit');
    },
    async rollback() {
      ended.push('rollback');
    },
  };
  const adapter = { provider: 'postgres', adapterName: 'commit-fails', startTransaction: async () => transaction };
  return {
    provider: 'postgres',
    adapterName: 'commit-fails',
    connect: async () => adapter,
  } as unknown as SqlDriverAdapterFactory;
}

describe("a transaction's place in the pool", () => {
  it('is given back when its COMMIT fails, and the driver transaction is ended once', async () => {
    const ended: string[] = [];
    const adapter = await observedFactory(driverWhoseCommitFails(ended)).connect();
    const shares = createPoolShares(1, 1);
    const share = new ConnectionShare(1, { shares, organizationId: 'organization-a' });
    await withConnectionShare(share, async () => {
      const transaction = await adapter.startTransaction();
      expect(shares.usage('organization-a').running).toBe(1);
      await expect(transaction.executeRaw({ sql: 'COMMIT', args: [], argTypes: [] })).rejects.toThrow(
        'Connection terminated',
      );
    });
    expect(shares.usage('organization-a').running).toBe(0);
    expect(ended).toEqual(['rollback']);
    // The share is whole again: another statement gets its place at once.
    const release = await share.acquire();
    expect(shares.usage('organization-a').running).toBe(1);
    release();
  });
});

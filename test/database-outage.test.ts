// The database going away mid-request: the client gets a masked error (no SQL, stack or
// driver message), nothing is half-written, and the server serves again once it is back.
// Needs a PostgreSQL server to cut off: registered in the PostgreSQL pass (.ci/run sets
// TEST_DATABASE_URL); the embedded database lives inside the process and cannot go away.
import { afterAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../src/db/client.js';
import { observingStatements } from '../src/db/statement-observer.js';
import { createWagraphYoga } from '../src/yoga.js';
import { silentLogger, globalId } from './helpers/client.js';
import { testDatabase, testDatabaseTarget } from './helpers/database.js';
import { createContact, createConversation, createOrganization } from './helpers/factories.js';
import { failInsertsWhere } from './helpers/failures.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';

const target = testDatabaseTarget();

describe('an unexpected error inside a mutation', () => {
  it('is masked, leaves nothing written, and the next request is served', async () => {
    const direct = await testDatabase();
    const org = await createOrganization(direct);
    const contact = await createContact(direct, org.id);
    const conversation = await createConversation(direct, org.id, { contactId: contact.id });
    const yoga = createWagraphYoga({ db: direct, log: silentLogger, graphiql: false });
    // The database refuses the message's INSERT, with the statement and trigger in its error.
    const restore = await failInsertsWhere(direct, 'Message', 'conversationId', conversation.id);
    let text: string;
    try {
      const response = await yoga.fetch('http://wagraph.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${org.owner.apiKey}` },
        body: JSON.stringify({
          query: `mutation($id: ID!) { sendMessage(input: { conversationId: $id, text: "hi" }) { message { id } } }`,
          variables: { id: globalId('Conversation', conversation.id) },
        }),
      });
      text = await response.text();
    } finally {
      await restore();
    }
    expect(JSON.parse(text).errors).toEqual([
      expect.objectContaining({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }),
    ]);
    expect(text).not.toMatch(/insert into|injected|test_fail|trigger|stack/i);
    expect(await direct.prisma.message.count({ where: { conversationId: conversation.id } })).toBe(0);
    const next = await yoga.fetch('http://wagraph.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${org.owner.apiKey}` },
      body: JSON.stringify({ query: '{ conversations { totalCount } }' }),
    });
    expect(await next.json()).toEqual({ data: { conversations: { totalCount: 1 } } });
  });
});

if (target.kind === 'postgres') {
  describe('when the database goes away', () => {
    let proxy: TcpProxy;
    let db: Database;
    afterAll(async () => {
      await db?.close().catch(() => {});
      await proxy?.close();
    });

    it('masks the error, writes nothing, and serves again once the database is back', async () => {
      const direct = await testDatabase();
      const org = await createOrganization(direct);
      const contact = await createContact(direct, org.id);
      const conversation = await createConversation(direct, org.id, { contactId: contact.id, status: 'ACTIVE' });

      const url = new URL(target.url);
      proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
      url.host = `127.0.0.1:${proxy.port}`;
      db = await openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 4 });
      const yoga = createWagraphYoga({ db, log: silentLogger, graphiql: false });
      // The database disappears while sendMessage is half-way through its transaction: when it
      // enqueues the delivery, after inserting the message.
      const send = (query: string, variables: Record<string, unknown>) =>
        observingStatements(
          (sql) => {
            if (sql.includes('graphile_worker.add_job')) void proxy.cut();
          },
          async () => {
            const response = await yoga.fetch('http://wagraph.test/graphql', {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${org.owner.apiKey}` },
              body: JSON.stringify({ query, variables }),
            });
            return { status: response.status, text: await response.text() };
          },
        );
      const SEND = `mutation($id: ID!) { sendMessage(input: { conversationId: $id, text: "hello" }) { message { id } userErrors { message } } }`;

      const failed = await send(SEND, { id: globalId('Conversation', conversation.id) });
      expect(JSON.parse(failed.text)).toEqual({
        data: null,
        errors: [
          {
            message: 'Unexpected error.',
            locations: [{ line: 1, column: 22 }],
            path: ['sendMessage'],
            extensions: { code: 'INTERNAL_SERVER_ERROR' },
          },
        ],
      });
      expect(failed.text).not.toMatch(/SELECT|INSERT|prisma|Prisma|at .*\.ts|ECONN|socket|Connection/);

      // While it is gone, requests fail fast and masked too.
      const down = await send(`{ viewer { permissions } }`, {});
      expect(down.text).toContain('Unexpected error.');
      expect(down.text).not.toMatch(/SELECT|prisma|ECONN|Connection/i);

      await proxy.restore();
      await expect
        .poll(async () => (await send(`{ contacts { totalCount } }`, {})).text, { timeout: 15_000 })
        .toBe(JSON.stringify({ data: { contacts: { totalCount: 1 } } }));
      // Each interrupted transaction gives its connection back to the pool: five more
      // outages than the pool has connections, and it still serves.
      for (let outage = 0; outage < 5; outage++) {
        expect((await send(SEND, { id: globalId('Conversation', conversation.id) })).text).toContain(
          'Unexpected error.',
        );
        await proxy.restore();
      }
      await expect
        .poll(async () => (await send(`{ contacts { totalCount } }`, {})).text, { timeout: 15_000 })
        .toBe(JSON.stringify({ data: { contacts: { totalCount: 1 } } }));
      // Nothing of the interrupted mutations was written.
      expect(await direct.prisma.message.count({ where: { conversationId: conversation.id } })).toBe(0);
      expect(
        (await direct.prisma.conversation.findUniqueOrThrow({ where: { id: conversation.id } })).lastMessageAt,
      ).toBeNull();
    });
  });
}

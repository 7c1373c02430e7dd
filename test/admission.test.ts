// Admission control: at most MAX_CONCURRENT_REQUESTS requests execute at once, the others
// wait their turn (past the waiting room: 503 and Retry-After), and one organization cannot
// fill every slot nor queue in front of the others (hostile battery, class 5). The queue on
// its own: test/unit/fair-queue.test.ts. Slow clients, which hold no slot (class 2), need a
// server process: test/server.test.ts, 'the embedded database'.
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestClient, type GraphQLResponse, type TestClient } from './helpers/client.js';
import { testDatabase } from './helpers/database.js';
import { createOrganization, type TestOrganization } from './helpers/factories.js';
import { type Gate, gatedDatabase } from './helpers/gate.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves with the request's answer, or with 'still waiting' after `ms`. */
const within = <T>(request: Promise<T>, ms: number) =>
  Promise.race([request, sleep(ms).then(() => 'still waiting' as const)]);

describe('at most MAX_CONCURRENT_REQUESTS requests execute at once', () => {
  let client: TestClient;
  let gate: Gate;
  let org: TestOrganization;

  beforeAll(async () => {
    gate = gatedDatabase(await testDatabase());
    client = await createTestClient({ maxConcurrentRequests: 1 }, gate.db);
    org = await createOrganization(client.db);
  });

  it('makes the others wait their turn, and turns away those past the waiting room with 503', async () => {
    const finished: string[] = [];
    gate.close();
    const slow = client.gql(`{ viewer { organization { name } } }`, {}, { as: org.owner }).then((response) => {
      finished.push('slow');
      return response;
    });
    await gate.arrivals(1); // the slow request holds the only slot
    // 51 more: 50 wait, one (whichever authenticates last) is turned away at once.
    const others = Array.from({ length: 51 }, () =>
      client.gql(`{ viewer { permissions } }`, {}, { as: org.owner }).then((response) => {
        finished.push(String(response.status));
        return response;
      }),
    );
    const turnedAway = await Promise.race(others);
    expect(turnedAway.status).toBe(503);
    expect(turnedAway.errors).toEqual([
      { message: 'The server is busy: retry in a moment.', extensions: { code: 'SERVICE_UNAVAILABLE' } },
    ]);
    expect(finished).toEqual(['503']);

    gate.open();
    expect((await slow).data?.viewer.organization.name).toBe(org.name);
    const answers = await Promise.all(others);
    expect(
      answers.filter((answer) => answer.status === 200 && answer.data?.viewer.permissions.length > 0),
    ).toHaveLength(50);
    expect(finished.slice(0, 2)).toEqual(['503', 'slow']);
    expect(finished).toHaveLength(52);
  });

  it('gives the slot back however the request ends: errors, refusals, invalid documents', async () => {
    const endings = [
      client.gql(`{ nope }`, {}, { as: org.owner }), // invalid document
      client.gql(
        `{ contacts(first: 100) { nodes { conversations(first: 100) { nodes { messages(first: 100) { nodes { id } } } } } } }`,
        {},
        { as: org.owner },
      ), // refused by the cost limit
      client.gql(`{ contacts(first: 101) { nodes { id } } }`, {}, { as: org.owner }), // an error while executing (page size)
      client.gql(`query { viewer { permissions } }`, {}, { as: null }), // unauthenticated: never queued
    ];
    expect((await Promise.all(endings)).map((response) => response.errors?.length)).toEqual([1, 1, 1, 1]);
    // One slot: had any of them kept it, this would wait for ever.
    const next = await Promise.race([
      client.gql(`{ viewer { permissions } }`, {}, { as: org.owner }),
      new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), 5_000)),
    ]);
    expect(next).not.toBe('still waiting');
  });
});

describe('class 5: fairness between organizations', () => {
  let client: TestClient;
  let gate: Gate;
  let noisy: TestOrganization;
  let quiet: TestOrganization;
  // Reads the organization: held at the gate while it is closed, holding its execution slot.
  const held = `{ viewer { organization { name } } }`;
  const simple = `{ viewer { permissions } }`;

  beforeAll(async () => {
    gate = gatedDatabase(await testDatabase());
    // Four slots, two per organization (the default share: half).
    client = await createTestClient({ maxConcurrentRequests: 4 }, gate.db);
    noisy = await createOrganization(client.db);
    quiet = await createOrganization(client.db);
  });

  it("one organization fills only its share: another one's query is admitted before the noisy one's backlog", async () => {
    gate.close();
    try {
      const backlog = Array.from({ length: 20 }, () => client.gql(held, {}, { as: noisy.owner }));
      await gate.arrivals(2);
      await sleep(200); // the rest of the backlog has authenticated and waits
      const answer = await within(client.gql(simple, {}, { as: quiet.owner }), 5_000);
      expect(answer).not.toBe('still waiting');
      expect((answer as GraphQLResponse).status).toBe(200);
      // Only the noisy organization's share executes; its other 18 requests still wait.
      expect(gate.waiting()).toBe(2);
      gate.open();
      const answers = await Promise.all(backlog);
      expect(answers.map((response) => response.status)).toEqual(Array(20).fill(200));
    } finally {
      gate.open();
    }
  });

  it('takes turns: a free slot goes to the organization that waits behind a noisy one, not to its backlog', async () => {
    const single = await createTestClient({ maxConcurrentRequests: 1 }, gate.db);
    const finished: string[] = [];
    const send = (label: string, query: string, as: TestOrganization) =>
      single.gql(query, {}, { as: as.owner }).then((response) => {
        finished.push(label);
        return response;
      });
    gate.close();
    try {
      // The noisy organization holds the only slot and queues ten more; then the quiet one asks.
      const running = send('noisy', held, noisy);
      await gate.arrivals(1);
      const backlog = Array.from({ length: 10 }, () => send('noisy backlog', simple, noisy));
      await sleep(500);
      const quietAnswer = send('quiet', simple, quiet);
      await sleep(500);
      expect(finished).toEqual([]);
      gate.open();
      await Promise.all([running, ...backlog, quietAnswer]);
      // Arrival order would have put the quiet request last.
      expect(finished).toEqual(['noisy', 'quiet', ...Array(10).fill('noisy backlog')]);
    } finally {
      gate.open();
    }
  });

  it('a noisy organization whose waiting room is full gets 503; another organization does not', async () => {
    const small = await createTestClient({ maxConcurrentRequests: 2 }, gate.db); // one slot per organization, 50 waiting each
    gate.close();
    try {
      const running = small.gql(held, {}, { as: noisy.owner });
      await gate.arrivals(1);
      // 51 more from the noisy organization: 50 wait, one is turned away at once.
      const waiting = Array.from({ length: 51 }, () => small.gql(simple, {}, { as: noisy.owner }));
      const refused = await Promise.race(waiting);
      expect(refused.status).toBe(503);
      expect(refused.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      const other = await within(small.gql(simple, {}, { as: quiet.owner }), 5_000);
      expect((other as GraphQLResponse).status).toBe(200);
      gate.open();
      expect((await running).status).toBe(200);
      expect((await Promise.all(waiting)).filter((response) => response.status === 200)).toHaveLength(50);
    } finally {
      gate.open();
    }
  });

  it('requests abandoned by their client while waiting leave the queue and give no slot away', async () => {
    const small = await createTestClient({ maxConcurrentRequests: 1 }, gate.db); // one slot, 50 waiting
    const ask = (query: string, signal?: AbortSignal) =>
      small.yoga.fetch('http://wagraph.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${noisy.owner.apiKey}` },
        body: JSON.stringify({ query }),
        ...(signal ? { signal } : {}),
      });
    gate.close();
    try {
      const running = ask(held);
      await gate.arrivals(1);
      const clients = Array.from({ length: 50 }, () => new AbortController());
      const abandoned = clients.map((abort) => Promise.resolve(ask(simple, abort.signal)).catch(() => 'aborted'));
      await sleep(200);
      for (const abort of clients) abort.abort();
      await Promise.all(abandoned);
      // The waiting room is empty again: 50 new requests wait instead of being turned away.
      const next = Array.from({ length: 50 }, () => ask(simple));
      await sleep(200);
      gate.open();
      expect((await running).status).toBe(200);
      expect((await Promise.all(next)).map((response) => response.status)).toEqual(Array(50).fill(200));
      // And the slot is free.
      expect((await ask(simple)).status).toBe(200);
    } finally {
      gate.open();
    }
  });
});

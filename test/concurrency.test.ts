// Admission control (MAX_CONCURRENT_REQUESTS): requests past the limit wait their turn in
// order; when too many wait, new ones are turned away with 503 and Retry-After.
// Fairness between organizations is in test/hardening-admission.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestClient, type TestClient } from './helpers/client.js';
import { testDatabase } from './helpers/database.js';
import { createOrganization, type TestOrganization } from './helpers/factories.js';
import { type Gate, gatedDatabase } from './helpers/gate.js';

let client: TestClient;
let gate: Gate;
let org: TestOrganization;

beforeAll(async () => {
  gate = gatedDatabase(await testDatabase());
  client = await createTestClient({ maxConcurrentRequests: 1 }, gate.db);
  org = await createOrganization(client.db);
});

describe('at most MAX_CONCURRENT_REQUESTS requests execute at once', () => {
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

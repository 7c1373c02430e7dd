// Admission control (MAX_CONCURRENT_REQUESTS): requests past the limit wait their turn in
// order; when too many wait, new ones are turned away with 503 and Retry-After.
import { beforeAll, describe, expect, it } from 'vitest';
import type { OutboundTransport } from '../src/messaging/transport.js';
import { createTestClient, globalId, type TestClient } from './helpers/client.js';
import { createContact, createConversation, createOrganization, type TestOrganization } from './helpers/factories.js';

let client: TestClient;
let org: TestOrganization;
let conversationId: string;
let release: () => void = () => {};
let delivering: () => void = () => {};
const delivery = new Promise<void>((resolve) => (delivering = resolve));
const held: OutboundTransport = {
  send: async () => {
    delivering();
    await new Promise<void>((resolve) => (release = resolve));
    return { whatsAppMessageId: null };
  },
};

beforeAll(async () => {
  client = await createTestClient({ maxConcurrentRequests: 1, transport: held });
  org = await createOrganization(client.db);
  const contact = await createContact(client.db, org.id);
  conversationId = globalId('Conversation', (await createConversation(client.db, org.id, { contactId: contact.id })).id);
});

describe('at most MAX_CONCURRENT_REQUESTS requests execute at once', () => {
  it('makes the others wait their turn, and turns away those past the waiting room with 503', async () => {
    const finished: string[] = [];
    const slow = client
      .gql(`mutation($id: ID!) { sendMessage(input: { conversationId: $id, text: "hold" }) { userErrors { code } } }`, { id: conversationId }, { as: org.owner })
      .then((response) => {
        finished.push('slow');
        return response;
      });
    await delivery; // the slow request holds the only slot
    const waiting = Array.from({ length: 50 }, () =>
      client.gql(`{ viewer { permissions } }`, {}, { as: org.owner }).then((response) => {
        finished.push('waiting');
        return response;
      }),
    );
    const turnedAway = await client.gql(`{ viewer { permissions } }`, {}, { as: org.owner });
    expect(turnedAway.status).toBe(503);
    expect(turnedAway.errors).toEqual([{ message: 'The server is busy: retry in a moment.', extensions: { code: 'SERVICE_UNAVAILABLE' } }]);
    expect(finished).toEqual([]);

    release();
    expect((await slow).data?.sendMessage.userErrors).toEqual([]);
    const answers = await Promise.all(waiting);
    expect(answers.every((answer) => answer.status === 200 && answer.data?.viewer.permissions.length > 0)).toBe(true);
    expect(finished[0]).toBe('slow');
    expect(finished).toHaveLength(51);
  });
});

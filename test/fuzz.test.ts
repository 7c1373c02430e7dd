// Random documents and variable sets generated from the schema, sent as a member of
// one organization while another organization holds a marked secret: no HTTP 500, no
// unexpected (masked) error, no leaked internals, nothing of the other organization, and
// the server answers normally afterwards. Seeded: a failure names the seed that replays it.
import { beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../src/schema/index.js';
import { createTestClient, globalId, type TestClient } from './helpers/client.js';
import {
  createCampaign,
  createContact,
  createConversation,
  createList,
  createMessages,
  createOrganization,
  createTag,
  type TestOrganization,
} from './helpers/factories.js';
import { type FuzzContext, random, randomDocument } from './helpers/fuzz.js';

// 500 documents (seeds FUZZ_FIRST_SEED, +1, …) keep `npm test` fast, the same ones on every run;
// FUZZ_CASES=20000 (or more) for a longer hunt, FUZZ_FIRST_SEED to start past the seeds already
// sent (README, "Tests").
const DOCUMENTS = Number(process.env.FUZZ_CASES ?? 500);
const FIRST_SEED = Number(process.env.FUZZ_FIRST_SEED ?? 0);
const CONCURRENCY = 16;
const SECRET = 'SECRET-OF-ORGANIZATION-B';
const INTERNALS =
  /prisma|SELECT |INSERT |UPDATE "|DELETE FROM|node_modules|DriverAdapter|PGlite|\bat .+:\d+:\d+|\.ts:\d+/i;

let client: TestClient;
let a: TestOrganization;
let ctx: FuzzContext;

async function populate(org: TestOrganization, marker: string): Promise<string[]> {
  const db = client.db;
  const contact = await createContact(db, org.id, { name: `${marker} contact` });
  const list = await createList(db, org.id, { name: `${marker} list` });
  const tag = await createTag(db, org.id, { label: `${marker} tag` });
  const campaign = await createCampaign(db, org.id, { name: `${marker} campaign` });
  const conversation = await createConversation(db, org.id, { contactId: contact.id, campaignId: campaign.id });
  const messages = await createMessages(db, org.id, conversation.id, 3, () => ({
    messageData: { text: `${marker} message` },
  }));
  await db.prisma.contactListMembership.create({
    data: { organizationId: org.id, listId: list.id, contactId: contact.id },
  });
  return [
    globalId('Contact', contact.id),
    globalId('List', list.id),
    globalId('Tag', tag.id),
    globalId('Campaign', campaign.id),
    globalId('Conversation', conversation.id),
    globalId('Message', messages[0]!.id),
    globalId('OrganizationMember', org.owner.id),
  ];
}

beforeAll(async () => {
  client = await createTestClient();
  a = await createOrganization(client.db, 'Fuzzed');
  const b = await createOrganization(client.db, SECRET);
  const ids = [...(await populate(a, 'own')), ...(await populate(b, SECRET))];
  const page = await client.gql(
    `{ contacts(first: 1) { edges { cursor } } conversations(first: 1) { edges { cursor } } }`,
    {},
    { as: a.owner },
  );
  ctx = {
    ids,
    cursors: [page.data?.contacts.edges[0].cursor, page.data?.conversations.edges[0].cursor].filter(Boolean),
  };
});

describe('the fuzzer', () => {
  it(`sends ${DOCUMENTS} random documents: no 500, no unexpected error, no leak`, { timeout: 900_000 }, async () => {
    const problems: string[] = [];
    for (let start = 0; start < DOCUMENTS && problems.length < 5; start += CONCURRENCY) {
      await Promise.all(
        Array.from({ length: Math.min(CONCURRENCY, DOCUMENTS - start) }, async (_, offset) => {
          const seed = FIRST_SEED + start + offset;
          const document = randomDocument(schema, random(seed), ctx);
          const response = await client.yoga.fetch('http://wagraph.test/graphql', {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${a.owner.apiKey}` },
            body: JSON.stringify({ query: document }),
          });
          const text = await response.text();
          const body = JSON.parse(text) as { errors?: { message: string; extensions?: object }[] };
          const unexpected = text.includes('INTERNAL_SERVER_ERROR') || text.includes('Unexpected error');
          // Data may echo what the fuzzer wrote (names like `"); DELETE FROM`); errors must
          // never show more than what the client sent.
          const leaks = (body.errors ?? []).some((error) => {
            const shown = `${error.message} ${JSON.stringify(error.extensions ?? {})}`;
            const match = INTERNALS.exec(shown);
            return match !== null && !document.includes(match[0]);
          });
          if (response.status >= 500 || unexpected || leaks || text.includes(SECRET)) {
            problems.push(
              `seed ${seed}: HTTP ${response.status}\n  ${document.slice(0, 500)}\n  → ${text.slice(0, 500)}`,
            );
          }
        }),
      );
    }
    expect(problems).toEqual([]);

    const after = await client.gql(`{ viewer { organization { name } } contacts { totalCount } }`, {}, { as: a.owner });
    expect(after.status).toBe(200);
    expect(after.data?.viewer.organization.name).toBe('Fuzzed');
  });
});

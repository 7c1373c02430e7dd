// Hostile battery, classes 7 and 8 of the hardening issue: mutations racing each other on
// the same rows, and input that used to reach the database (or the stack) unchecked. Each
// answer must be a success or a user error naming the input at fault, never "Unexpected
// error." and never an error-level log line.
import { Writable } from 'node:stream';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { pino } from 'pino';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isTransientConflict } from '../src/errors.js';
import { JSON_DEPTH_MAX } from '../src/validation.js';
import { createTestClient, type GraphQLResponse, type TestClient } from './helpers/client.js';
import { testDatabaseTarget } from './helpers/database.js';
import {
  createContact,
  createConversation,
  createList,
  createMessages,
  createOrganization,
  createTag,
  type TestOrganization,
} from './helpers/factories.js';

let client: TestClient;
let org: TestOrganization;
/** Every line the gateway logged at level error (50) or above. */
const errorLogs: string[] = [];

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line && (JSON.parse(line) as { level: number }).level >= 50) errorLogs.push(line);
      }
      done();
    },
  });
  client = await createTestClient({ log: pino({ level: 'info' }, sink) });
  org = await createOrganization(client.db, 'Hardening 7 and 8');
});

beforeEach(() => {
  errorLogs.length = 0;
});

const gid = (typename: string, id: string) => encodeGlobalID(typename, id);

interface UserErrorShape {
  field: string[] | null;
  code: string;
  message: string;
}

/** The payload of a mutation's response: its root field's value. */
function payloadOf(response: GraphQLResponse): { userErrors: UserErrorShape[] } & Record<string, unknown> {
  const [payload] = Object.values(response.data ?? {}) as ({ userErrors: UserErrorShape[] } | null)[];
  return payload ?? { userErrors: [] };
}

describe('class 7: racing mutations answer a success or NOT_FOUND, never a masked error', () => {
  const outcomes = { success: 0, notFound: 0 };
  const unexpected: unknown[] = [];

  /** Sends one mutation and files its answer: success, NOT_FOUND, or unexpected. */
  async function run(document: string, input: Record<string, unknown>): Promise<'success' | 'notFound' | 'unexpected'> {
    const response = await client.gql(
      `mutation($input: ${document.split('|')[0]}!) { ${document.split('|')[1]}(input: $input) { userErrors { field code message } } }`,
      { input },
      { as: org.owner },
    );
    if (response.errors || response.status !== 200) {
      unexpected.push({ document, input, status: response.status, errors: response.errors });
      return 'unexpected';
    }
    const { userErrors } = payloadOf(response);
    if (userErrors.length === 0) {
      outcomes.success += 1;
      return 'success';
    }
    if (userErrors.every((error) => error.code === 'NOT_FOUND')) {
      outcomes.notFound += 1;
      return 'notFound';
    }
    unexpected.push({ document, input, userErrors });
    return 'unexpected';
  }

  const op = {
    deleteContact: (id: string) => run('DeleteContactInput|deleteContact', { id: gid('Contact', id) }),
    deleteContacts: (ids: string[]) =>
      run('DeleteContactsInput|deleteContacts', { ids: ids.map((id) => gid('Contact', id)) }),
    updateContact: (id: string, listIds: string[], tagIds: string[]) =>
      run('UpdateContactInput|updateContact', {
        id: gid('Contact', id),
        name: `Renamed ${id.slice(0, 4)}`,
        listIds: listIds.map((listId) => gid('List', listId)),
        tagIds: tagIds.map((tagId) => gid('Tag', tagId)),
      }),
    addContactsToList: (listId: string, contactIds: string[]) =>
      run('AddContactsToListInput|addContactsToList', {
        listId: gid('List', listId),
        contactIds: contactIds.map((id) => gid('Contact', id)),
      }),
    removeContactsFromList: (listId: string, contactIds: string[]) =>
      run('RemoveContactsFromListInput|removeContactsFromList', {
        listId: gid('List', listId),
        contactIds: contactIds.map((id) => gid('Contact', id)),
      }),
    createContacts: (listIds: string[], tagIds: string[], count: number) =>
      run('CreateContactsInput|createContacts', {
        contacts: Array.from({ length: count }, (_, index) => ({
          name: `Imported ${index}`,
          phone: `+3519${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`,
          listIds: listIds.map((listId) => gid('List', listId)),
          tagIds: tagIds.map((tagId) => gid('Tag', tagId)),
        })),
      }),
    deleteList: (id: string) => run('DeleteListInput|deleteList', { id: gid('List', id) }),
    updateList: (id: string, tagIds: string[]) =>
      run('UpdateListInput|updateList', {
        id: gid('List', id),
        name: 'Renamed list',
        tagIds: tagIds.map((tagId) => gid('Tag', tagId)),
      }),
    deleteTag: (id: string) => run('DeleteTagInput|deleteTag', { id: gid('Tag', id) }),
    updateTag: (id: string) => run('UpdateTagInput|updateTag', { id: gid('Tag', id), label: `renamed-${id}` }),
    sendMessage: (conversationId: string, replyToId?: string) =>
      run('SendMessageInput|sendMessage', {
        conversationId: gid('Conversation', conversationId),
        text: 'Hello',
        ...(replyToId ? { replyToId: gid('Message', replyToId) } : {}),
      }),
    updateConversation: (id: string, tagIds: string[]) =>
      run('UpdateConversationInput|updateConversation', {
        id: gid('Conversation', id),
        status: 'CLOSED',
        tagIds: tagIds.map((tagId) => gid('Tag', tagId)),
      }),
    markConversationRead: (id: string) =>
      run('MarkConversationReadInput|markConversationRead', { id: gid('Conversation', id) }),
    assignConversation: (id: string, memberId: string) =>
      run('AssignConversationInput|assignConversation', {
        id: gid('Conversation', id),
        memberId: gid('OrganizationMember', memberId),
      }),
  };

  beforeEach(() => {
    outcomes.success = 0;
    outcomes.notFound = 0;
    unexpected.length = 0;
  });

  function expectOnlySuccessOrNotFound(total: number) {
    expect(unexpected).toEqual([]);
    expect(outcomes.success + outcomes.notFound).toBe(total);
    expect(errorLogs).toEqual([]);
    // Both sides of each race won some of the time.
    expect(outcomes.success).toBeGreaterThan(0);
    expect(outcomes.notFound).toBeGreaterThan(0);
  }

  it('deleteContact(s) against updateContact, addContactsToList and removeContactsFromList on the same contacts (104 operations)', async () => {
    const db = client.db.prisma;
    const lists = [await createList(client.db, org.id), await createList(client.db, org.id)];
    const tag = await createTag(client.db, org.id);
    const contacts = await Promise.all(Array.from({ length: 13 }, () => createContact(client.db, org.id)));
    const ids = contacts.map((contact) => contact.id);
    const operations: Promise<unknown>[] = [];
    contacts.forEach((contact, index) => {
      const neighbour = ids[(index + 1) % ids.length]!;
      operations.push(
        op.updateContact(contact.id, [lists[0]!.id], [tag.id]),
        op.addContactsToList(lists[1]!.id, [neighbour, contact.id]),
        op.deleteContact(contact.id),
        op.updateContact(neighbour, [lists[1]!.id], []),
        op.addContactsToList(lists[0]!.id, [contact.id]),
        op.removeContactsFromList(lists[0]!.id, [contact.id, neighbour]),
        op.deleteContacts([neighbour, contact.id]),
        op.updateContact(contact.id, [lists[1]!.id], [tag.id]),
      );
    });
    await Promise.all(operations);
    expectOnlySuccessOrNotFound(104);
    // Every contact was deleted by one of the deletes; nothing links to a deleted contact.
    expect(await db.contact.count({ where: { id: { in: ids } } })).toBe(0);
    expect(await db.contactListMembership.count({ where: { contactId: { in: ids } } })).toBe(0);
    expect(await db.contactTag.count({ where: { contactId: { in: ids } } })).toBe(0);
  });

  it('createContacts and updateContact into lists and tags against deleteList, updateList and deleteTag (100 operations)', async () => {
    const db = client.db.prisma;
    const operations: Promise<unknown>[] = [];
    const listIds: string[] = [];
    const tagIds: string[] = [];
    for (let index = 0; index < 10; index += 1) {
      const list = await createList(client.db, org.id);
      const tag = await createTag(client.db, org.id);
      const contact = await createContact(client.db, org.id);
      listIds.push(list.id);
      tagIds.push(tag.id);
      operations.push(
        op.createContacts([list.id], [tag.id], 3),
        op.deleteList(list.id),
        op.createContacts([list.id], [], 2),
        op.updateContact(contact.id, [list.id], [tag.id]),
        op.updateList(list.id, [tag.id]),
        op.deleteTag(tag.id),
        op.updateTag(tag.id),
        op.addContactsToList(list.id, [contact.id]),
        op.deleteTag(tag.id),
        op.createContacts([], [tag.id], 2),
      );
    }
    await Promise.all(operations);
    expectOnlySuccessOrNotFound(100);
    expect(await db.contactList.count({ where: { id: { in: listIds } } })).toBe(0);
    expect(await db.tag.count({ where: { id: { in: tagIds } } })).toBe(0);
    expect(await db.contactListMembership.count({ where: { listId: { in: listIds } } })).toBe(0);
    expect(await db.contactTag.count({ where: { tagId: { in: tagIds } } })).toBe(0);
  });

  it('sendMessage and conversation mutations against deleteContact (100 operations)', async () => {
    const db = client.db.prisma;
    const tag = await createTag(client.db, org.id);
    const operations: Promise<unknown>[] = [];
    const contactIds: string[] = [];
    for (let index = 0; index < 10; index += 1) {
      const contact = await createContact(client.db, org.id);
      const conversation = await createConversation(client.db, org.id, { contactId: contact.id });
      const [message] = await createMessages(client.db, org.id, conversation.id, 1, () => ({
        direction: 'INBOUND',
        status: 'DELIVERED',
      }));
      contactIds.push(contact.id);
      operations.push(
        op.sendMessage(conversation.id),
        op.sendMessage(conversation.id, message!.id),
        op.deleteContact(contact.id),
        op.sendMessage(conversation.id),
        op.updateConversation(conversation.id, [tag.id]),
        op.markConversationRead(conversation.id),
        op.assignConversation(conversation.id, org.owner.id),
        op.sendMessage(conversation.id, message!.id),
        op.updateContact(contact.id, [], [tag.id]),
        op.markConversationRead(conversation.id),
      );
    }
    await Promise.all(operations);
    expectOnlySuccessOrNotFound(100);
    expect(await db.conversation.count({ where: { contactId: { in: contactIds } } })).toBe(0);
    expect(
      await db.message.count({ where: { organizationId: org.id, conversation: { contactId: { in: contactIds } } } }),
    ).toBe(0);
    expect(await db.conversationTag.count({ where: { tagId: tag.id } })).toBe(0);
  });
});

// PGlite has one connection: two transactions cannot wait for each other there, so this is
// registered in the PostgreSQL pass of the suite only.
if (testDatabaseTarget().kind === 'postgres')
  describe('class 7: a deadlock is recognised as worth another attempt', () => {
    it('the error of a real deadlock is a transient conflict; others are not', async () => {
      const db = client.db.prisma;
      const [first, second] = [await createTag(client.db, org.id), await createTag(client.db, org.id)];
      let bothLocked!: () => void;
      const barrier = new Promise<void>((resolve) => {
        let waiting = 2;
        bothLocked = () => {
          waiting -= 1;
          if (waiting === 0) resolve();
        };
      });
      // Each transaction locks one tag, waits until the other has locked the other, then asks for it.
      const lockInOrder = (a: string, b: string) =>
        db.$transaction(
          async (tx) => {
            await tx.$executeRaw`SELECT 1 FROM "Tag" WHERE "id" = ${a}::uuid FOR UPDATE`;
            bothLocked();
            await barrier;
            await tx.$executeRaw`SELECT 1 FROM "Tag" WHERE "id" = ${b}::uuid FOR UPDATE`;
          },
          { timeout: 15_000 },
        );
      const results = await Promise.allSettled([lockInOrder(first.id, second.id), lockInOrder(second.id, first.id)]);
      const failures = results
        .filter((result) => result.status === 'rejected')
        .map((result) => result.reason as unknown);
      expect(failures).toHaveLength(1);
      expect(isTransientConflict(failures[0])).toBe(true);
      expect(isTransientConflict(new Error('deadlock'))).toBe(false);
    });
  });

/** `levels` objects nested inside each other, as JSON text: {"a":{"a":…{"a":1}}}. */
function nested(levels: number): string {
  return `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
}

describe('class 8: malformed strings, deep JSON and out-of-range dates are user errors', () => {
  const LONE = 'rt\ud800x';

  async function mutate(document: string, variables: Record<string, unknown>) {
    const response = await client.gql(document, variables, { as: org.owner });
    expect(response.errors).toBeUndefined();
    return payloadOf(response).userErrors;
  }

  function expectQueryRefused(response: GraphQLResponse, argument: RegExp) {
    expect(response.errors?.length).toBeGreaterThan(0);
    const [error] = response.errors!;
    expect(error!.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(error!.message).not.toBe('Unexpected error.');
    expect(error!.message).toMatch(argument);
  }

  it('a lone surrogate in a label, a name, a description, a text or attributes is INVALID at that field', async () => {
    const contact = await createContact(client.db, org.id);
    const conversation = await createConversation(client.db, org.id, { contactId: contact.id });
    const list = await createList(client.db, org.id);
    const cases: [string, Record<string, unknown>, string[]][] = [
      [
        'mutation($input: CreateTagInput!) { createTag(input: $input) { userErrors { field code message } } }',
        { label: LONE },
        ['input', 'label'],
      ],
      [
        'mutation($input: CreateListInput!) { createList(input: $input) { userErrors { field code message } } }',
        { name: LONE },
        ['input', 'name'],
      ],
      [
        'mutation($input: UpdateListInput!) { updateList(input: $input) { userErrors { field code message } } }',
        { id: gid('List', list.id), description: `a${LONE}` },
        ['input', 'description'],
      ],
      [
        'mutation($input: CreateContactInput!) { createContact(input: $input) { userErrors { field code message } } }',
        { name: LONE, phone: '+14155550100' },
        ['input', 'name'],
      ],
      [
        'mutation($input: CreateContactInput!) { createContact(input: $input) { userErrors { field code message } } }',
        { name: 'Ann', phone: '+14155550101', attributes: { city: LONE } },
        ['input', 'attributes'],
      ],
      [
        'mutation($input: CreateContactInput!) { createContact(input: $input) { userErrors { field code message } } }',
        { name: 'Ann', phone: '+14155550102', attributes: { [LONE]: 1 } },
        ['input', 'attributes'],
      ],
      [
        'mutation($input: UpdateContactInput!) { updateContact(input: $input) { userErrors { field code message } } }',
        { id: gid('Contact', contact.id), attributes: { list: ['ok', LONE] } },
        ['input', 'attributes'],
      ],
      [
        'mutation($input: SendMessageInput!) { sendMessage(input: $input) { userErrors { field code message } } }',
        { conversationId: gid('Conversation', conversation.id), text: LONE },
        ['input', 'text'],
      ],
      [
        'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { userErrors { field code message } } }',
        { name: LONE },
        ['input', 'name'],
      ],
    ];
    for (const [document, input, field] of cases) {
      const userErrors = await mutate(document, { input });
      expect(userErrors, JSON.stringify(input)).toEqual([expect.objectContaining({ field, code: 'INVALID' })]);
      expect(userErrors[0]!.message).toMatch(/UTF-16|surrogate|well-formed/i);
    }
    // A surrogate pair (an emoji) is a character like any other.
    expect(
      await mutate('mutation($input: CreateTagInput!) { createTag(input: $input) { userErrors { code } } }', {
        input: { label: 'rt😀x' },
      }),
    ).toEqual([]);
    expect(await client.db.prisma.message.count({ where: { conversationId: conversation.id } })).toBe(0);
    expect(errorLogs).toEqual([]);
  });

  it('a lone surrogate in a query argument is BAD_USER_INPUT naming it', async () => {
    const search = await client.gql(
      'query($filter: ContactFilter) { contacts(filter: $filter) { totalCount } }',
      { filter: { search: LONE } },
      { as: org.owner },
    );
    expectQueryRefused(search, /filter\.search/);
    expectQueryRefused(
      await client.gql('query($id: ID!) { node(id: $id) { id } }', { id: `Q29${LONE}` }, { as: org.owner }),
      /\$id/,
    );
    expect(errorLogs).toEqual([]);
  });

  it('text that is only invisible characters is INVALID where text is required', async () => {
    const contact = await createContact(client.db, org.id);
    const conversation = await createConversation(client.db, org.id, { contactId: contact.id });
    const invisible = ['\u200b\u200b', '\u200c\u200d\u2060', '\ufeff \u00ad', '\u3164', '\u2800'];
    for (const text of invisible) {
      const cases: [string, Record<string, unknown>, string[]][] = [
        [
          'mutation($input: SendMessageInput!) { sendMessage(input: $input) { userErrors { field code } } }',
          { conversationId: gid('Conversation', conversation.id), text },
          ['input', 'text'],
        ],
        [
          'mutation($input: CreateTagInput!) { createTag(input: $input) { userErrors { field code } } }',
          { label: text },
          ['input', 'label'],
        ],
        [
          'mutation($input: CreateContactInput!) { createContact(input: $input) { userErrors { field code } } }',
          { name: text, phone: '+14155550103' },
          ['input', 'name'],
        ],
        [
          'mutation($input: CreateListInput!) { createList(input: $input) { userErrors { field code } } }',
          { name: text },
          ['input', 'name'],
        ],
      ];
      for (const [document, input, field] of cases) {
        expect(await mutate(document, { input }), JSON.stringify(input)).toEqual([{ field, code: 'INVALID' }]);
      }
    }
    // Visible text around a zero-width joiner is text.
    expect(
      await mutate('mutation($input: CreateTagInput!) { createTag(input: $input) { userErrors { code } } }', {
        input: { label: 'a\u200db' },
      }),
    ).toEqual([]);
    expect(await client.db.prisma.message.count({ where: { conversationId: conversation.id } })).toBe(0);
  });

  it(`attributes nested deeper than ${JSON_DEPTH_MAX} levels are INVALID, identically on create and update, at any depth`, async () => {
    const contact = await createContact(client.db, org.id);
    const create =
      'mutation($input: CreateContactInput!) { createContact(input: $input) { contact { id } userErrors { field code message } } }';
    const update =
      'mutation($input: UpdateContactInput!) { updateContact(input: $input) { contact { id } userErrors { field code message } } }';
    /** The variables as JSON text: a deep value cannot go through JSON.stringify (it recurses). */
    async function send(document: string, input: string) {
      const response = await client.request({
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${org.owner.apiKey}` },
        body: `{"query":${JSON.stringify(document)},"variables":{"input":${input}}}`,
      });
      const body = (await response.json()) as GraphQLResponse['data'] & { errors?: unknown };
      expect(body.errors).toBeUndefined();
      return payloadOf({ status: response.status, data: (body as { data: Record<string, unknown> }).data }).userErrors;
    }
    for (const levels of [JSON_DEPTH_MAX + 1, 1_000, 4_000, 5_000, 20_000]) {
      const attributes = nested(levels);
      const created = await send(
        create,
        `{"name":"Deep","phone":"+1415555${String(levels).padStart(4, '0').slice(-4)}","attributes":${attributes}}`,
      );
      const updated = await send(
        update,
        `{"id":${JSON.stringify(gid('Contact', contact.id))},"attributes":${attributes}}`,
      );
      for (const userErrors of [created, updated]) {
        expect(userErrors, `${levels} levels`).toEqual([
          expect.objectContaining({ field: ['input', 'attributes'], code: 'INVALID' }),
        ]);
        expect(userErrors[0]!.message).toContain(String(JSON_DEPTH_MAX));
      }
    }
    // The limit itself is accepted on both.
    const attributes = nested(JSON_DEPTH_MAX);
    expect(await send(create, `{"name":"Deep enough","phone":"+14155559999","attributes":${attributes}}`)).toEqual([]);
    expect(
      await send(update, `{"id":${JSON.stringify(gid('Contact', contact.id))},"attributes":${attributes}}`),
    ).toEqual([]);
    // The same value written in the document: the same answer; far deeper, a clear refusal.
    const literal = (levels: number) =>
      client.gql(
        `mutation { updateContact(input: { id: "${gid('Contact', contact.id)}", attributes: ${'{a:'.repeat(levels)}1${'}'.repeat(levels)} }) { userErrors { field code } } }`,
        {},
        { as: org.owner },
      );
    expect((await literal(JSON_DEPTH_MAX + 1)).data?.updateContact.userErrors).toEqual([
      { field: ['input', 'attributes'], code: 'INVALID' },
    ]);
    const deepLiteral = await literal(5_000);
    expect(deepLiteral.status).toBeGreaterThanOrEqual(400);
    expect(deepLiteral.status).toBeLessThan(500);
    expect(deepLiteral.errors?.[0]?.message).not.toBe('Unexpected error.');
    // Arrays count as levels too.
    const array = `${'['.repeat(JSON_DEPTH_MAX)}1${']'.repeat(JSON_DEPTH_MAX)}`;
    expect(
      await send(update, `{"id":${JSON.stringify(gid('Contact', contact.id))},"attributes":{"a":${array}}}`),
    ).toEqual([expect.objectContaining({ field: ['input', 'attributes'], code: 'INVALID' })]);
    expect(errorLogs).toEqual([]);
  });

  it('a cursor or a DateTime argument outside PostgreSQL’s range is BAD_USER_INPUT naming the argument', async () => {
    const page = await client.gql('query { contacts(first: 1) { edges { cursor } } }', {}, { as: org.owner });
    const ordering = (
      JSON.parse(Buffer.from(page.data?.contacts.edges[0].cursor as string, 'base64url').toString('utf8')) as string[]
    )[0]!;
    const forged = (value: string) =>
      Buffer.from(JSON.stringify([ordering, value, '00000000-0000-4000-8000-000000000000']), 'utf8').toString(
        'base64url',
      );
    for (const value of [
      '+275760-09-13T00:00:00.000Z',
      '-271821-04-20T00:00:00.000Z',
      '+010000-01-01T00:00:00.000Z',
      '-000001-01-01T00:00:00.000Z',
    ]) {
      const response = await client.gql(
        'query($after: String!) { contacts(first: 2, after: $after) { nodes { id } } }',
        { after: forged(value) },
        { as: org.owner },
      );
      expectQueryRefused(response, /after/);
    }
    const createdAfter = (at: string) =>
      client.gql(
        'query($at: DateTime!) { contacts(filter: { createdAfter: $at }) { totalCount } }',
        { at },
        { as: org.owner },
      );
    // Valid RFC 3339, but PostgreSQL has no year 0 (the second is year 0 in UTC).
    for (const value of ['0000-01-01T00:00:00.000Z', '0001-01-01T00:30:00+01:00']) {
      expectQueryRefused(await createdAfter(value), /\$at.*0001-01-01/);
    }
    for (const value of ['9999-12-31T23:59:59.999Z', '0001-01-01T00:00:00Z']) {
      expect((await createdAfter(value)).data?.contacts.totalCount).toBeGreaterThanOrEqual(0);
    }
    expect(errorLogs).toEqual([]);
  });
});

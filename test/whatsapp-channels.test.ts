// WhatsApp channels through the API: connect, update, disconnect, list, node(id:). Secrets
// are sealed at rest and never readable (only whether each is set and a fingerprint); a
// phone-number id is unique across organizations without revealing whose channel has it.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { fingerprint } from '../src/secrets.js';
import { secretContext } from '../src/whatsapp/channels.js';
import { createTestClient, globalId, type TestClient, testSecretBox } from './helpers/client.js';
import {
  createContact,
  createConversation,
  createMember,
  createOrganization,
  createWhatsAppChannel,
  type TestMember,
  uniqueMetaId,
} from './helpers/factories.js';

let client: TestClient;

beforeAll(async () => {
  client = await createTestClient();
});

const SECRET = `isSet fingerprint`;
const CHANNEL = `id name phoneNumberId businessAccountId displayPhoneNumber status createdAt updatedAt
  accessToken { ${SECRET} } appSecret { ${SECRET} } verifyToken { ${SECRET} }`;
const ERRORS = `userErrors { field message code }`;
const MUTATIONS = {
  connectWhatsAppChannel: `mutation($input: ConnectWhatsAppChannelInput!) { connectWhatsAppChannel(input: $input) { channel { ${CHANNEL} } ${ERRORS} } }`,
  updateWhatsAppChannel: `mutation($input: UpdateWhatsAppChannelInput!) { updateWhatsAppChannel(input: $input) { channel { ${CHANNEL} } ${ERRORS} } }`,
  disconnectWhatsAppChannel: `mutation($input: DisconnectWhatsAppChannelInput!) { disconnectWhatsAppChannel(input: $input) { channel { ${CHANNEL} } ${ERRORS} } }`,
};

interface UserError {
  field: string[] | null;
  message: string;
  code: string;
}
type Payload = { channel: any; userErrors: UserError[] };

async function mutate(name: keyof typeof MUTATIONS, input: Record<string, unknown>, as: TestMember): Promise<Payload> {
  const response = await client.gql(MUTATIONS[name], { input }, { as });
  expect(response.status).toBe(200);
  expect(response.errors).toBeUndefined();
  return response.data![name];
}

function connectInput(overrides: Record<string, unknown> = {}) {
  return {
    name: '  Support line  ',
    phoneNumberId: uniqueMetaId(),
    businessAccountId: '200000000000042',
    displayPhoneNumber: '+1 555-000-2222',
    accessToken: `EAAG${randomUUID().replace(/-/g, '')}`,
    appSecret: randomUUID().replace(/-/g, ''),
    verifyToken: `verify-${randomUUID()}`,
    ...overrides,
  };
}

function onlyError(payload: Payload) {
  expect(payload.userErrors).toHaveLength(1);
  const [{ field, code, message }] = payload.userErrors as [UserError];
  expect(message).not.toBe('');
  return { field, code, message };
}

async function rawChannel(id: string) {
  return client.db.prisma.whatsAppChannel.findUniqueOrThrow({ where: { id } });
}

function rawId(globalChannelId: string): string {
  return Buffer.from(globalChannelId, 'base64').toString('utf8').split(':')[1]!;
}

describe('connectWhatsAppChannel', () => {
  it('connects a channel; the secrets are sealed at rest and the API shows only that they are set and their fingerprints', async () => {
    const org = await createOrganization(client.db);
    const input = connectInput();
    const payload = await mutate('connectWhatsAppChannel', input, org.owner);
    expect(payload.userErrors).toEqual([]);
    expect(payload.channel).toMatchObject({
      name: 'Support line',
      phoneNumberId: input.phoneNumberId,
      businessAccountId: '200000000000042',
      displayPhoneNumber: '+1 555-000-2222',
      status: 'CONNECTED',
      accessToken: { isSet: true, fingerprint: fingerprint(input.accessToken) },
      appSecret: { isSet: true, fingerprint: fingerprint(input.appSecret) },
      verifyToken: { isSet: true, fingerprint: fingerprint(input.verifyToken) },
    });
    // Nothing the API answers contains a secret.
    const read = await client.gql(
      `query($id: ID!) { node(id: $id) { ... on WhatsAppChannel { ${CHANNEL} } } }`,
      {
        id: payload.channel.id,
      },
      { as: org.owner },
    );
    expect(read.data?.node).toEqual(payload.channel);
    for (const secret of [input.accessToken, input.appSecret, input.verifyToken]) {
      expect(JSON.stringify(payload)).not.toContain(secret);
      expect(JSON.stringify(read)).not.toContain(secret);
    }
    // At rest: sealed, not in the clear, and each opens only as what it is.
    const row = await rawChannel(rawId(payload.channel.id));
    expect(row.organizationId).toBe(org.id);
    for (const secret of [input.accessToken, input.appSecret, input.verifyToken]) {
      expect(JSON.stringify(row)).not.toContain(secret);
    }
    expect(row.appSecretSealed).toMatch(new RegExp(`^v1\\.${testSecretBox.keyId}\\.`));
    expect(testSecretBox.open(row.appSecretSealed, secretContext(row.id, 'appSecret'))).toBe(input.appSecret);
    expect(testSecretBox.open(row.accessTokenSealed!, secretContext(row.id, 'accessToken'))).toBe(input.accessToken);
    expect(testSecretBox.open(row.verifyTokenSealed, secretContext(row.id, 'verifyToken'))).toBe(input.verifyToken);
    expect(row.verifyTokenDigest).toBe(testSecretBox.digest(input.verifyToken));
  });

  it('connects without an access token: it reads as not set', async () => {
    const org = await createOrganization(client.db);
    const { accessToken: _omitted, ...input } = connectInput();
    const payload = await mutate('connectWhatsAppChannel', input, org.owner);
    expect(payload.userErrors).toEqual([]);
    expect(payload.channel.accessToken).toEqual({ isSet: false, fingerprint: null });
  });

  it('refuses a phone-number id that another organization connected (TAKEN), without saying whose, and writes nothing', async () => {
    const other = await createOrganization(client.db, 'Secretive Inc');
    const theirs = await createWhatsAppChannel(client.db, testSecretBox, other.id);
    const org = await createOrganization(client.db);
    const payload = await mutate(
      'connectWhatsAppChannel',
      connectInput({ phoneNumberId: theirs.phoneNumberId }),
      org.owner,
    );
    expect(payload.channel).toBeNull();
    const error = onlyError(payload);
    expect(error).toMatchObject({ field: ['input', 'phoneNumberId'], code: 'TAKEN' });
    expect(error.message).not.toContain('Secretive');
    expect(error.message).not.toContain(other.id);
    expect(await client.db.prisma.whatsAppChannel.count({ where: { organizationId: org.id } })).toBe(0);
    // Theirs is untouched, disconnected or not.
    await client.db.prisma.whatsAppChannel.update({ where: { id: theirs.id }, data: { status: 'DISCONNECTED' } });
    const again = await mutate(
      'connectWhatsAppChannel',
      connectInput({ phoneNumberId: theirs.phoneNumberId }),
      org.owner,
    );
    expect(onlyError(again)).toMatchObject({ field: ['input', 'phoneNumberId'], code: 'TAKEN' });
    expect((await rawChannel(theirs.id)).organizationId).toBe(other.id);
  });

  it('refuses a phone-number id connected in the same organization (TAKEN)', async () => {
    const org = await createOrganization(client.db);
    const ours = await createWhatsAppChannel(client.db, testSecretBox, org.id);
    const payload = await mutate(
      'connectWhatsAppChannel',
      connectInput({ phoneNumberId: ours.phoneNumberId }),
      org.owner,
    );
    expect(onlyError(payload)).toMatchObject({ field: ['input', 'phoneNumberId'], code: 'TAKEN' });
  });

  it('takes a phone-number id only once when two organizations connect it at the same time', async () => {
    const [a, b] = [await createOrganization(client.db), await createOrganization(client.db)];
    const phoneNumberId = uniqueMetaId();
    const payloads = await Promise.all([
      mutate('connectWhatsAppChannel', connectInput({ phoneNumberId }), a.owner),
      mutate('connectWhatsAppChannel', connectInput({ phoneNumberId }), b.owner),
    ]);
    expect(payloads.filter((payload) => payload.userErrors.length === 0)).toHaveLength(1);
    expect(payloads.flatMap((payload) => payload.userErrors.map((error) => error.code))).toEqual(['TAKEN']);
    expect(await client.db.prisma.whatsAppChannel.count({ where: { phoneNumberId } })).toBe(1);
  });

  it('connects the organization’s own disconnected channel again, with the new values and secrets', async () => {
    const org = await createOrganization(client.db);
    const old = await createWhatsAppChannel(client.db, testSecretBox, org.id, { status: 'DISCONNECTED' });
    const { accessToken: _omitted, ...input } = connectInput({ phoneNumberId: old.phoneNumberId, name: 'Back' });
    const payload = await mutate('connectWhatsAppChannel', input, org.owner);
    expect(payload.userErrors).toEqual([]);
    expect(payload.channel).toMatchObject({
      id: globalId('WhatsAppChannel', old.id),
      name: 'Back',
      status: 'CONNECTED',
      // The old access token is not kept when it is not given again.
      accessToken: { isSet: false, fingerprint: null },
      appSecret: { isSet: true, fingerprint: fingerprint(input.appSecret) },
    });
    expect(await client.db.prisma.whatsAppChannel.count({ where: { organizationId: org.id } })).toBe(1);
  });

  it.each([
    ['phoneNumberId', { phoneNumberId: '12ab' }],
    ['phoneNumberId', { phoneNumberId: '' }],
    ['phoneNumberId', { phoneNumberId: '1'.repeat(33) }],
    ['businessAccountId', { businessAccountId: 'waba' }],
    ['displayPhoneNumber', { displayPhoneNumber: 'call me' }],
    ['displayPhoneNumber', { displayPhoneNumber: '+1 555 000 1111 1111 1111 1111 11' }],
    ['name', { name: '   ' }],
    ['accessToken', { accessToken: '' }],
    ['accessToken', { accessToken: 'has spaces in it' }],
    ['appSecret', { appSecret: 'short' }],
    ['verifyToken', { verifyToken: 'too-short' }],
    ['verifyToken', { verifyToken: 'v'.repeat(257) }],
    ['verifyToken', { verifyToken: 'ünïcode-verify-token' }],
  ])('refuses a bad %s (%o) as INVALID and writes nothing', async (field, overrides) => {
    const org = await createOrganization(client.db);
    const payload = await mutate('connectWhatsAppChannel', connectInput(overrides), org.owner);
    expect(payload.channel).toBeNull();
    expect(onlyError(payload)).toMatchObject({ field: ['input', field], code: 'INVALID' });
    expect(await client.db.prisma.whatsAppChannel.count({ where: { organizationId: org.id } })).toBe(0);
  });

  it('reports every bad field at once', async () => {
    const org = await createOrganization(client.db);
    const payload = await mutate(
      'connectWhatsAppChannel',
      connectInput({ phoneNumberId: 'x', appSecret: 'x', verifyToken: 'x' }),
      org.owner,
    );
    expect(payload.userErrors.map((error) => error.field)).toEqual([
      ['input', 'phoneNumberId'],
      ['input', 'appSecret'],
      ['input', 'verifyToken'],
    ]);
  });
});

describe('updateWhatsAppChannel', () => {
  it('changes what is given, replaces the secrets given, and leaves the rest', async () => {
    const org = await createOrganization(client.db);
    const channel = await createWhatsAppChannel(client.db, testSecretBox, org.id);
    const before = await rawChannel(channel.id);
    const accessToken = `EAAG-rotated-${randomUUID()}`;
    const payload = await mutate(
      'updateWhatsAppChannel',
      { id: globalId('WhatsAppChannel', channel.id), name: 'Renamed', accessToken },
      org.owner,
    );
    expect(payload.userErrors).toEqual([]);
    expect(payload.channel).toMatchObject({
      name: 'Renamed',
      phoneNumberId: channel.phoneNumberId,
      accessToken: { isSet: true, fingerprint: fingerprint(accessToken) },
      appSecret: { isSet: true, fingerprint: fingerprint(channel.secrets.appSecret) },
      verifyToken: { isSet: true, fingerprint: fingerprint(channel.secrets.verifyToken) },
    });
    const after = await rawChannel(channel.id);
    expect(testSecretBox.open(after.accessTokenSealed!, secretContext(channel.id, 'accessToken'))).toBe(accessToken);
    expect(after.appSecretSealed).toBe(before.appSecretSealed);
    expect(after.verifyTokenSealed).toBe(before.verifyTokenSealed);
  });

  it('recomputes the verify token’s digest with the token', async () => {
    const org = await createOrganization(client.db);
    const channel = await createWhatsAppChannel(client.db, testSecretBox, org.id);
    const verifyToken = `new-verify-${randomUUID()}`;
    const payload = await mutate(
      'updateWhatsAppChannel',
      { id: globalId('WhatsAppChannel', channel.id), verifyToken },
      org.owner,
    );
    expect(payload.channel.verifyToken.fingerprint).toBe(fingerprint(verifyToken));
    expect((await rawChannel(channel.id)).verifyTokenDigest).toBe(testSecretBox.digest(verifyToken));
  });

  it('answers NOT_FOUND for another organization’s channel and changes nothing', async () => {
    const other = await createOrganization(client.db);
    const theirs = await createWhatsAppChannel(client.db, testSecretBox, other.id);
    const org = await createOrganization(client.db);
    const before = await rawChannel(theirs.id);
    for (const id of [globalId('WhatsAppChannel', theirs.id), globalId('WhatsAppChannel', randomUUID()), 'nope']) {
      const payload = await mutate(
        'updateWhatsAppChannel',
        { id, name: 'Hijacked', appSecret: 'attacker-secret' },
        org.owner,
      );
      expect(onlyError(payload)).toMatchObject({ field: ['input', 'id'], code: 'NOT_FOUND' });
    }
    expect(await rawChannel(theirs.id)).toEqual(before);
  });

  it('refuses bad values as INVALID and changes nothing', async () => {
    const org = await createOrganization(client.db);
    const channel = await createWhatsAppChannel(client.db, testSecretBox, org.id);
    const before = await rawChannel(channel.id);
    const payload = await mutate(
      'updateWhatsAppChannel',
      { id: globalId('WhatsAppChannel', channel.id), name: 'Fine', verifyToken: 'short' },
      org.owner,
    );
    expect(onlyError(payload)).toMatchObject({ field: ['input', 'verifyToken'], code: 'INVALID' });
    expect(await rawChannel(channel.id)).toEqual(before);
  });
});

describe('disconnectWhatsAppChannel', () => {
  it('disconnects a channel; it stays readable, with its conversations', async () => {
    const org = await createOrganization(client.db);
    const channel = await createWhatsAppChannel(client.db, testSecretBox, org.id);
    const contact = await createContact(client.db, org.id);
    await createConversation(client.db, org.id, { contactId: contact.id, channelId: channel.id });
    const payload = await mutate(
      'disconnectWhatsAppChannel',
      { id: globalId('WhatsAppChannel', channel.id) },
      org.owner,
    );
    expect(payload.userErrors).toEqual([]);
    expect(payload.channel).toMatchObject({ status: 'DISCONNECTED', appSecret: { isSet: true } });
    const conversations = await client.gql(
      `{ conversations { nodes { channel { id status } } } }`,
      {},
      { as: org.owner },
    );
    expect(conversations.data?.conversations.nodes).toEqual([
      { channel: { id: globalId('WhatsAppChannel', channel.id), status: 'DISCONNECTED' } },
    ]);
  });

  it('answers NOT_FOUND for another organization’s channel and leaves it connected', async () => {
    const other = await createOrganization(client.db);
    const theirs = await createWhatsAppChannel(client.db, testSecretBox, other.id);
    const org = await createOrganization(client.db);
    const payload = await mutate(
      'disconnectWhatsAppChannel',
      { id: globalId('WhatsAppChannel', theirs.id) },
      org.owner,
    );
    expect(onlyError(payload)).toMatchObject({ field: ['input', 'id'], code: 'NOT_FOUND' });
    expect((await rawChannel(theirs.id)).status).toBe('CONNECTED');
  });
});

describe('reading channels', () => {
  it('lists the organization’s channels oldest first, filters by status, and never another organization’s', async () => {
    const org = await createOrganization(client.db);
    const other = await createOrganization(client.db);
    const first = await createWhatsAppChannel(client.db, testSecretBox, org.id, { createdAt: new Date('2026-01-01') });
    const second = await createWhatsAppChannel(client.db, testSecretBox, org.id, {
      createdAt: new Date('2026-01-02'),
      status: 'DISCONNECTED',
    });
    const theirs = await createWhatsAppChannel(client.db, testSecretBox, other.id);
    const all = await client.gql(`{ channels { totalCount nodes { id status } } }`, {}, { as: org.owner });
    expect(all.data?.channels).toEqual({
      totalCount: 2,
      nodes: [
        { id: globalId('WhatsAppChannel', first.id), status: 'CONNECTED' },
        { id: globalId('WhatsAppChannel', second.id), status: 'DISCONNECTED' },
      ],
    });
    const connected = await client.gql(
      `{ channels(status: [CONNECTED]) { totalCount nodes { id } } }`,
      {},
      { as: org.owner },
    );
    expect(connected.data?.channels).toEqual({ totalCount: 1, nodes: [{ id: globalId('WhatsAppChannel', first.id) }] });
    const foreign = await client.gql(
      `query($id: ID!) { node(id: $id) { id } }`,
      { id: globalId('WhatsAppChannel', theirs.id) },
      { as: org.owner },
    );
    expect(foreign.errors).toBeUndefined();
    expect(foreign.data?.node).toBeNull();
  });

  it('shows a conversation’s channel, null when it has none; a member without Get:WhatsAppChannel gets an error for it', async () => {
    const org = await createOrganization(client.db);
    const channel = await createWhatsAppChannel(client.db, testSecretBox, org.id);
    const contact = await createContact(client.db, org.id);
    const on = await createConversation(client.db, org.id, { contactId: contact.id, channelId: channel.id });
    const off = await createConversation(client.db, org.id, { contactId: contact.id });
    const query = `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Conversation { channel { name } } } }`;
    const ids = [globalId('Conversation', on.id), globalId('Conversation', off.id)];
    const read = await client.gql(query, { ids }, { as: org.owner });
    expect(read.data?.nodes).toEqual([{ channel: { name: channel.name } }, { channel: null }]);
    const agent = await createMember(client.db, org.id, { permissions: ['Get:Conversation'] });
    const refused = await client.gql(query, { ids }, { as: agent });
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(JSON.stringify(refused)).not.toContain(channel.name);
  });

  it('loads the channels of a page of conversations in a number of statements that does not grow with the page', async () => {
    const statementsFor = async (conversations: number) => {
      const org = await createOrganization(client.db);
      for (let index = 0; index < conversations; index += 1) {
        const channel = await createWhatsAppChannel(client.db, testSecretBox, org.id);
        const contact = await createContact(client.db, org.id);
        await createConversation(client.db, org.id, { contactId: contact.id, channelId: channel.id });
      }
      const result = await client.gqlWithSql(
        `{ conversations(first: 20) { nodes { channel { name status } } } channels(first: 20) { totalCount nodes { id } } }`,
        {},
        { as: org.owner },
      );
      expect(result.errors).toBeUndefined();
      expect(result.data?.conversations.nodes).toHaveLength(conversations);
      expect(result.data?.channels.totalCount).toBe(conversations);
      return result.statements.length;
    };
    expect(await statementsFor(6)).toBe(await statementsFor(2));
  });

  it('refuses to link a conversation to another organization’s channel (the database’s composite key)', async () => {
    const org = await createOrganization(client.db);
    const other = await createOrganization(client.db);
    const theirs = await createWhatsAppChannel(client.db, testSecretBox, other.id);
    const contact = await createContact(client.db, org.id);
    await expect(
      createConversation(client.db, org.id, { contactId: contact.id, channelId: theirs.id }),
    ).rejects.toThrow();
  });
});

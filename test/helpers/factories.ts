// Rows for tests, inserted directly with the root client (not through the API under test).
// Every test makes its own organizations, so tests never see each other's rows.
import { randomUUID } from 'node:crypto';
import { newApiKey } from '../../src/auth/api-keys.js';
import type { Database } from '../../src/db/client.js';
import type { Prisma } from '../../src/generated/prisma/client.js';
import type { SecretBox } from '../../src/secrets.js';
import { sealNewChannelSecrets } from '../../src/whatsapp/channels.js';

export interface TestMember {
  id: string;
  organizationId: string;
  name: string;
  /** A valid API key of this member: what `gql(…, { as })` sends. */
  apiKey: string;
}

export interface TestOrganization {
  id: string;
  name: string;
  owner: TestMember;
}

let sequence = 0;
const next = () => ++sequence;

/** A unique, valid E.164 number. */
export function uniquePhone(): string {
  const digits = `${process.pid % 1000}${Date.now() % 1_000_000}${next()}`.padStart(10, '7').slice(-11);
  return `+1${digits.slice(-10)}`;
}

export async function createMember(
  db: Database,
  organizationId: string,
  options: { name?: string; accessLevel?: 'OWNER' | 'MEMBER'; permissions?: string[] } = {},
): Promise<TestMember> {
  const n = next();
  const name = options.name ?? `Member ${n}`;
  const member = await db.prisma.organizationMember.create({
    data: {
      organizationId,
      name,
      email: `member${n}-${randomUUID().slice(0, 8)}@example.com`,
      accessLevel: options.accessLevel ?? 'MEMBER',
    },
  });
  if (options.permissions) {
    const role = await db.prisma.organizationRole.create({
      data: { organizationId, name: `Role ${n}`, permissions: options.permissions },
    });
    await db.prisma.roleAssignment.create({ data: { organizationId, memberId: member.id, roleId: role.id } });
  }
  const key = newApiKey();
  await db.prisma.apiKey.create({
    data: { organizationId, memberId: member.id, name: `Key of ${name}`, prefix: key.prefix, keyHash: key.keyHash },
  });
  return { id: member.id, organizationId, name, apiKey: key.secret };
}

export async function createOrganization(db: Database, name = `Organization ${next()}`): Promise<TestOrganization> {
  const organization = await db.prisma.organization.create({ data: { name } });
  const owner = await createMember(db, organization.id, { name: `Owner of ${name}`, accessLevel: 'OWNER' });
  return { id: organization.id, name, owner };
}

/** A fixed instant plus `seconds`: creation times that make orderings predictable. */
export function at(seconds: number): Date {
  return new Date(Date.UTC(2026, 0, 1) + seconds * 1_000);
}

export async function createContact(
  db: Database,
  organizationId: string,
  data: Partial<Prisma.ContactUncheckedCreateInput> = {},
) {
  return db.prisma.contact.create({
    data: { name: `Contact ${next()}`, phone: uniquePhone(), ...data, organizationId },
  });
}

export async function createList(
  db: Database,
  organizationId: string,
  data: Partial<Prisma.ContactListUncheckedCreateInput> = {},
) {
  return db.prisma.contactList.create({ data: { name: `List ${next()}`, ...data, organizationId } });
}

export async function createTag(
  db: Database,
  organizationId: string,
  data: Partial<Prisma.TagUncheckedCreateInput> = {},
) {
  return db.prisma.tag.create({ data: { label: `tag-${next()}`, ...data, organizationId } });
}

export async function createCampaign(
  db: Database,
  organizationId: string,
  data: Partial<Prisma.CampaignUncheckedCreateInput> = {},
) {
  return db.prisma.campaign.create({ data: { name: `Campaign ${next()}`, ...data, organizationId } });
}

/**
 * A conversation whose contact wrote just now unless `data` says otherwise: inside WhatsApp's
 * 24-hour window, so that sendMessage sends in it (`lastInboundMessageAt: null` for one the
 * contact never wrote in; the trigger keeps the column when messages are inserted).
 */
export async function createConversation(
  db: Database,
  organizationId: string,
  data: Partial<Prisma.ConversationUncheckedCreateInput> & { contactId: string },
) {
  return db.prisma.conversation.create({ data: { lastInboundMessageAt: new Date(), ...data, organizationId } });
}

export async function createMessages(
  db: Database,
  organizationId: string,
  conversationId: string,
  count: number,
  make: (index: number) => Partial<Prisma.MessageCreateManyInput> = () => ({}),
) {
  const start = Date.UTC(2026, 1, 1);
  const rows = Array.from({ length: count }, (_, index) => ({
    id: randomUUID(),
    organizationId,
    conversationId,
    direction: 'INBOUND' as const,
    status: 'READ' as const,
    messageType: 'TEXT' as const,
    messageData: { text: `message ${index}` },
    createdAt: new Date(start + index * 1_000),
    ...make(index),
  }));
  for (let offset = 0; offset < rows.length; offset += 1_000) {
    await db.prisma.message.createMany({ data: rows.slice(offset, offset + 1_000) });
  }
  return rows;
}

/** A unique Meta id (digits), e.g. a phone-number id. */
export function uniqueMetaId(): string {
  return `1${String(process.pid % 10_000).padStart(4, '0')}${Date.now() % 1_000_000_000}${next()}`;
}

export interface ChannelSecrets {
  accessToken: string;
  appSecret: string;
  verifyToken: string;
}

/** A CONNECTED channel (unless `data` says otherwise) whose secrets are sealed with `box` (the server's). */
export async function createWhatsAppChannel(
  db: Database,
  box: SecretBox,
  organizationId: string,
  data: Partial<Prisma.WhatsAppChannelUncheckedCreateInput> = {},
) {
  const id = randomUUID();
  const secrets: ChannelSecrets = {
    accessToken: `token-${randomUUID()}`,
    appSecret: randomUUID().replace(/-/g, ''),
    verifyToken: `verify-${randomUUID()}`,
  };
  const channel = await db.prisma.whatsAppChannel.create({
    data: {
      id,
      name: `Channel ${next()}`,
      phoneNumberId: uniqueMetaId(),
      businessAccountId: uniqueMetaId(),
      displayPhoneNumber: '+1 555-000-1111',
      ...sealNewChannelSecrets(box, id, secrets),
      ...data,
      organizationId,
    },
  });
  return { ...channel, secrets };
}

// Demo data: two organizations that look like real WhatsApp inboxes, generated from a
// seeded random generator so that every run produces the same rows (and the same ids).
// It runs on the first start of an empty database, or with `npm run db:seed`, and never
// twice into the same database: it checks for existing organizations under a lock.
import { newApiKey } from '../auth/api-keys.js';
import { CITIES, FIRST_NAMES, LANGUAGES, LAST_NAMES } from './sample-data.js';
import type { PERMISSIONS } from '../auth/permissions.js';
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import type {
  CampaignStatus,
  ContactStatus,
  ConversationStatus,
  MessageDirection,
  MessageStatus,
  MessageType,
} from '../generated/prisma/enums.js';
import { type SeededRandom, seededRandom } from '../random.js';
import type { Database } from './client.js';

/** Fixed ids of the seeded owners, so that DEMO_API_KEY can find them on any later start. */
export const DEMO_OWNERS = [
  { organizationId: '0d1c6a52-6f2e-4c61-9a53-1f0c2b7e4a01', memberId: '0d1c6a52-6f2e-4c61-9a53-1f0c2b7e4b01' },
  { organizationId: '0d1c6a52-6f2e-4c61-9a53-1f0c2b7e4a02', memberId: '0d1c6a52-6f2e-4c61-9a53-1f0c2b7e4b02' },
] as const;

const SEED_LOCK = 7_245_021_432;

type Random = SeededRandom;

// --- realistic values -------------------------------------------------------------------------

/** Country calling code and the number of national digits to generate after it. */
const PHONE_PLANS = [
  ['1', 10],
  ['44', 10],
  ['49', 11],
  ['55', 11],
  ['91', 10],
  ['52', 10],
  ['34', 9],
  ['234', 10],
  ['27', 9],
  ['62', 11],
] as const;

const INBOUND_TEXTS = [
  'Hi! Is my order on its way?',
  'Do you deliver on Sundays?',
  'Thanks, that worked 🙏',
  'Can I change the delivery address?',
  'What time do you open tomorrow?',
  'The package arrived damaged.',
  'Is the 1kg bag back in stock?',
  'How do I cancel my subscription?',
  'Perfect, see you then!',
  'Can you send me the invoice?',
  'I was charged twice this month.',
  'Do you have a discount code?',
  'Stop sending me promotions please',
  'Where is your nearest store?',
  'Ok 👍',
];
const OUTBOUND_TEXTS = [
  'Hello! Thanks for reaching out, how can we help?',
  'Your order has shipped and should arrive in 2 days.',
  'We are open from 8am to 6pm, Monday to Saturday.',
  'I have updated the address on your order.',
  'Sorry about that! A replacement is on its way.',
  'Here is your invoice, let us know if anything is off.',
  'Use WELCOME10 for 10% off your next order.',
  'You have been unsubscribed from promotions.',
  'Is there anything else I can help you with?',
  'Great, we have refunded the duplicate charge.',
];
const LIST_NAMES: [string, string | null][] = [
  ['VIP customers', 'Spent more than $500 in the last year'],
  ['Newsletter subscribers', 'Opted in to the weekly newsletter'],
  ['Wholesale buyers', 'Cafés and restaurants buying in bulk'],
  ['Abandoned carts', null],
  ['Black Friday 2026', 'Targets of the Black Friday campaign'],
  ['Beta testers', 'Early access to new blends'],
  ['Inactive 90 days', 'No order in three months'],
  ['Event attendees', 'Came to a tasting event'],
];
const TAG_LABELS = [
  'vip',
  'wholesale',
  'complaint',
  'refund',
  'delivery',
  'billing',
  'lead',
  'returning',
  'spanish speaker',
  'needs follow-up',
  'opted out',
  'influencer',
];

// --- the seed ---------------------------------------------------------------------------------

interface OrganizationPlan {
  id: string;
  ownerId: string;
  name: string;
  domain: string;
  contacts: number;
  lists: number;
  tags: number;
  campaigns: number;
  conversations: number;
  members: { name: string; role?: 'support' | 'marketing' }[];
}

const ROLE_PERMISSIONS = {
  support: [
    'Get:Contact',
    'Update:Contact',
    'Get:List',
    'Get:Tag',
    'Get:Campaign',
    'Get:Conversation',
    'Update:Conversation',
    'Assign:Conversation',
    'Unassign:Conversation',
    'Get:OrganizationMember',
    // Which number a conversation is on; connecting numbers stays with the owners.
    'Get:WhatsAppChannel',
  ],
  marketing: [
    'Get:Contact',
    'Create:Contact',
    'Update:Contact',
    'Delete:Contact',
    'BulkImport:Contacts',
    'Get:List',
    'Create:List',
    'Update:List',
    'Delete:List',
    'Get:Tag',
    'Create:Tag',
    'Update:Tag',
    'Delete:Tag',
    'Get:Campaign',
    'Create:Campaign',
    'Update:Campaign',
    'Get:OrganizationMember',
    // Marketing connects its own tools (a CRM sync, Zapier): it manages its own API keys.
    // Revoke:ApiKey, over other members' keys, stays with the owners.
    'Get:ApiKey',
    'Regenerate:ApiKey',
    // Which numbers campaigns can send from; connecting numbers stays with the owners.
    'Get:WhatsAppChannel',
  ],
} satisfies Record<string, (typeof PERMISSIONS)[number][]>;

const EPOCH = Date.UTC(2026, 0, 5, 9, 0, 0);
const DAY = 86_400_000;

function phoneNumber(random: Random): string {
  const [code, digits] = random.pick(PHONE_PLANS);
  let national = String(random.int(2, 9));
  while (national.length < digits) national += String(random.int(0, 9));
  return `+${code}${national}`;
}

const SEEDED_MIME_TYPES: Partial<Record<MessageType, string>> = {
  IMAGE: 'image/jpeg',
  VIDEO: 'video/mp4',
  AUDIO: 'audio/ogg; codecs=opus',
  DOCUMENT: 'application/pdf',
  STICKER: 'image/webp',
};

function messageData(type: MessageType, text: string, random: Random): Prisma.InputJsonObject {
  switch (type) {
    case 'TEXT':
      return { text };
    case 'IMAGE':
    case 'VIDEO':
    case 'AUDIO':
    case 'DOCUMENT':
    case 'STICKER': {
      // Meta's media object (what Message.media reads); the same draws as ever, so the rest
      // of the seed does not change. Its id is no file's: these conversations have no channel.
      const key = type.toLowerCase();
      const id = random.uuid();
      const caption = random.chance(0.5) && (type === 'IMAGE' || type === 'VIDEO' || type === 'DOCUMENT');
      return { type: key, [key]: { id, mime_type: SEEDED_MIME_TYPES[type], ...(caption ? { caption: text } : {}) } };
    }
    case 'LOCATION':
      return { latitude: -23.55 + random.next(), longitude: -46.63 + random.next(), name: random.pick(CITIES) };
    case 'REACTION':
      return { emoji: random.pick(['👍', '❤️', '😂', '🙏']) };
    case 'TEMPLATE':
      return { name: random.pick(['order_shipped', 'welcome', 'black_friday']), language: 'en' };
    default:
      return { text };
  }
}

/** The seed's clock: `days` after EPOCH. */
function at(days: number): Date {
  return new Date(EPOCH + days * DAY);
}

type Transaction = Prisma.TransactionClient;
type Row = { id: string };

/**
 * One organization's rows. Every part draws from `random` in a fixed order, so the same
 * seed always gives the same rows: keep the order of the calls (and of the draws inside them).
 */
async function seedOrganization(prisma: Transaction, plan: OrganizationPlan, random: Random) {
  await prisma.organization.create({ data: { id: plan.id, name: plan.name, createdAt: at(0) } });
  const members = await seedMembers(prisma, plan, random);
  const contacts = await seedContacts(prisma, plan, random);
  const lists = await seedLists(prisma, plan, random);
  const tags = await seedTags(prisma, plan, random);
  await seedLinks(prisma, plan.id, random, { contacts, lists, tags });
  const campaigns = await seedCampaigns(prisma, plan, random, lists);
  await seedConversations(prisma, plan, random, { contacts, tags, campaigns, agents: members });
}

/** The two roles, the owner and the plan's members with their roles; returns the members. */
async function seedMembers(prisma: Transaction, plan: OrganizationPlan, random: Random): Promise<Row[]> {
  const organizationId = plan.id;
  const roles = {
    support: {
      id: random.uuid(),
      name: 'Support agent',
      description: 'Answers conversations',
      permissions: ROLE_PERMISSIONS.support,
    },
    marketing: {
      id: random.uuid(),
      name: 'Marketing',
      description: 'Runs lists and campaigns',
      permissions: ROLE_PERMISSIONS.marketing,
    },
  };
  await prisma.organizationRole.createMany({
    data: Object.values(roles).map((role) => ({ ...role, organizationId, createdAt: at(0) })),
  });
  const members = [
    { id: plan.ownerId, name: 'Olivia Owner', email: `owner@${plan.domain}`, accessLevel: 'OWNER' as const },
    ...plan.members.map((member) => ({
      id: random.uuid(),
      name: member.name,
      email: `${member.name.split(' ')[0]?.toLowerCase()}@${plan.domain}`,
      accessLevel: 'MEMBER' as const,
      role: member.role,
    })),
  ];
  await prisma.organizationMember.createMany({
    data: members.map(({ id, name, email, accessLevel }, index) => ({
      id,
      name,
      email,
      accessLevel,
      organizationId,
      createdAt: at(index * 0.1),
    })),
  });
  await prisma.roleAssignment.createMany({
    data: members.flatMap((member) =>
      'role' in member && member.role ? [{ organizationId, memberId: member.id, roleId: roles[member.role].id }] : [],
    ),
  });
  return members;
}

/** The plan's contacts, each with a phone no other contact of the organization has. */
async function seedContacts(prisma: Transaction, plan: OrganizationPlan, random: Random): Promise<Row[]> {
  const phones = new Set<string>();
  const contacts = Array.from({ length: plan.contacts }, (_, index) => {
    let phone = phoneNumber(random);
    while (phones.has(phone)) phone = phoneNumber(random);
    phones.add(phone);
    const name = `${random.pick(FIRST_NAMES)} ${random.pick(LAST_NAMES)}`;
    return {
      id: random.uuid(),
      organizationId: plan.id,
      name,
      phone,
      status: (random.chance(0.85) ? 'ACTIVE' : random.pick(['INACTIVE', 'BLOCKED'])) as ContactStatus,
      attributes: contactAttributes(random),
      createdAt: at(1 + (index * 60) / plan.contacts),
    };
  });
  await prisma.contact.createMany({ data: contacts });
  return contacts;
}

function contactAttributes(random: Random): Prisma.InputJsonObject {
  return {
    city: random.pick(CITIES),
    language: random.pick(LANGUAGES),
    ...(random.chance(0.3) ? { lifetimeValue: random.int(20, 2_000) } : {}),
    ...(random.chance(0.2) ? { source: random.pick(['website', 'instagram', 'store', 'referral']) } : {}),
  };
}

async function seedLists(prisma: Transaction, plan: OrganizationPlan, random: Random): Promise<Row[]> {
  const lists = LIST_NAMES.slice(0, plan.lists).map(([name, description], index) => ({
    id: random.uuid(),
    organizationId: plan.id,
    name,
    description,
    createdAt: at(2 + index),
  }));
  await prisma.contactList.createMany({ data: lists });
  return lists;
}

async function seedTags(prisma: Transaction, plan: OrganizationPlan, random: Random): Promise<Row[]> {
  const tags = TAG_LABELS.slice(0, plan.tags).map((label, index) => ({
    id: random.uuid(),
    organizationId: plan.id,
    label,
    createdAt: at(2 + index * 0.5),
  }));
  await prisma.tag.createMany({ data: tags });
  return tags;
}

/** Contacts in lists (5–40% of the contacts each), tags on contacts (60% have 1–3) and on lists. */
async function seedLinks(
  prisma: Transaction,
  organizationId: string,
  random: Random,
  { contacts, lists, tags }: { contacts: Row[]; lists: Row[]; tags: Row[] },
) {
  await prisma.contactListMembership.createMany({
    data: lists.flatMap((list) =>
      random
        .sample(contacts, random.int(Math.ceil(contacts.length * 0.05), Math.ceil(contacts.length * 0.4)))
        .map((contact) => ({
          organizationId,
          listId: list.id,
          contactId: contact.id,
          createdAt: at(70 + random.next() * 10),
        })),
    ),
  });
  await prisma.contactTag.createMany({
    data: contacts.flatMap((contact) =>
      random.sample(tags, random.chance(0.6) ? random.int(1, 3) : 0).map((tag) => ({
        organizationId,
        contactId: contact.id,
        tagId: tag.id,
        createdAt: at(70 + random.next() * 10),
      })),
    ),
  });
  await prisma.listTag.createMany({
    data: lists.flatMap((list) =>
      random.sample(tags, random.int(0, 2)).map((tag) => ({ organizationId, listId: list.id, tagId: tag.id })),
    ),
  });
}

const CAMPAIGN_PLANS: [string, CampaignStatus][] = [
  ['Black Friday 2026', 'RUNNING'],
  ['Spring blend launch', 'FINISHED'],
  ['Win-back December', 'DRAFT'],
];

/** The plan's campaigns, each aimed at 1–3 of the lists. */
async function seedCampaigns(prisma: Transaction, plan: OrganizationPlan, random: Random, lists: Row[]) {
  const organizationId = plan.id;
  const campaigns = CAMPAIGN_PLANS.slice(0, plan.campaigns).map(([name, status], index) => ({
    id: random.uuid(),
    organizationId,
    name,
    status,
    description: `${name} on WhatsApp`,
    createdAt: at(20 + index * 10),
  }));
  await prisma.campaign.createMany({ data: campaigns });
  await prisma.campaignList.createMany({
    data: campaigns.flatMap((campaign) =>
      random
        .sample(lists, random.int(1, 3))
        .map((list) => ({ organizationId, campaignId: campaign.id, listId: list.id })),
    ),
  });
  return campaigns;
}

const OUTBOUND_STATUSES: MessageStatus[] = ['SENT', 'DELIVERED', 'READ', 'READ', 'READ', 'FAILED', 'UNDELIVERED'];
/** Message types as often as they come up: mostly text. */
const MESSAGE_TYPES: MessageType[] = [
  'TEXT',
  'TEXT',
  'TEXT',
  'TEXT',
  'TEXT',
  'TEXT',
  'IMAGE',
  'VIDEO',
  'AUDIO',
  'DOCUMENT',
  'STICKER',
  'LOCATION',
  'CONTACTS',
  'REACTION',
  'ADDRESS',
  'INTERACTIVE',
  'TEMPLATE',
];

interface ConversationSources {
  contacts: Row[];
  tags: Row[];
  campaigns: Row[];
  /** Members a conversation may be assigned to. */
  agents: Row[];
}

/** One conversation with each of `plan.conversations` contacts, with their messages and tags. */
async function seedConversations(
  prisma: Transaction,
  plan: OrganizationPlan,
  random: Random,
  sources: ConversationSources,
) {
  const conversations: Prisma.ConversationCreateManyInput[] = [];
  const conversationTags: Prisma.ConversationTagCreateManyInput[] = [];
  const messages: Prisma.MessageCreateManyInput[] = [];
  random.sample(sources.contacts, plan.conversations).forEach((contact, index) => {
    const planned = planConversation(plan, random, sources, contact, index);
    conversations.push(planned.conversation);
    messages.push(...planned.messages);
    conversationTags.push(...planned.tags);
  });
  await prisma.conversation.createMany({ data: conversations });
  await prisma.conversationTag.createMany({ data: conversationTags });
  // In slices: one statement per thousand rows keeps every statement small.
  for (let offset = 0; offset < messages.length; offset += 1_000) {
    await prisma.message.createMany({ data: messages.slice(offset, offset + 1_000) });
  }
}

/** The `index`th conversation (with `contact`): 5–60 messages, a quarter of them started by a campaign. */
function planConversation(
  plan: OrganizationPlan,
  random: Random,
  { tags, campaigns, agents }: ConversationSources,
  contact: Row,
  index: number,
) {
  const organizationId = plan.id;
  const campaign = campaigns.length > 0 && random.chance(0.25) ? random.pick(campaigns) : undefined;
  const id = random.uuid();
  const start = EPOCH + (80 + (index * 30) / plan.conversations) * DAY;
  const messages = planMessages(random, { organizationId, conversationId: id, start, fromCampaign: !!campaign });
  const status: ConversationStatus = random.chance(0.6) ? 'ACTIVE' : random.pick(['CLOSED', 'RESOLVED']);
  const conversation: Prisma.ConversationCreateManyInput = {
    id,
    organizationId,
    contactId: contact.id,
    campaignId: campaign?.id ?? null,
    status,
    initiatedBy: campaign ? 'CAMPAIGN' : 'CONTACT',
    assignedToId: random.chance(0.6) ? random.pick(agents).id : null,
    lastMessageAt: messages.at(-1)?.createdAt ?? new Date(start),
    createdAt: new Date(start),
  };
  const conversationTags = random
    .sample(tags, random.chance(0.4) ? random.int(1, 2) : 0)
    .map((tag) => ({ organizationId, conversationId: id, tagId: tag.id }));
  return { conversation, messages, tags: conversationTags };
}

/**
 * The messages of one conversation, minutes to hours apart from `start` on: a campaign's
 * conversation opens with an outbound template; the last inbound ones may still be unread.
 */
function planMessages(
  random: Random,
  conversation: { organizationId: string; conversationId: string; start: number; fromCampaign: boolean },
) {
  const { organizationId, conversationId, fromCampaign } = conversation;
  const count = random.int(5, 60);
  let time = conversation.start;
  const messages: (Prisma.MessageCreateManyInput & { createdAt: Date })[] = [];
  for (let position = 0; position < count; position++) {
    time += random.int(20_000, 6 * 3_600_000);
    const direction: MessageDirection =
      position === 0 ? (fromCampaign ? 'OUTBOUND' : 'INBOUND') : random.chance(0.5) ? 'INBOUND' : 'OUTBOUND';
    const recent = position >= count - 3;
    const type = position === 0 && fromCampaign ? 'TEMPLATE' : random.pick(MESSAGE_TYPES);
    const text = random.pick(direction === 'INBOUND' ? INBOUND_TEXTS : OUTBOUND_TEXTS);
    const status: MessageStatus =
      direction === 'INBOUND' ? (recent && random.chance(0.5) ? 'DELIVERED' : 'READ') : random.pick(OUTBOUND_STATUSES);
    const earlier = messages.length > 0 && random.chance(0.1) ? random.pick(messages) : undefined;
    messages.push({
      id: random.uuid(),
      organizationId,
      conversationId,
      direction,
      status,
      messageType: type,
      messageData: messageData(type, text, random),
      whatsAppMessageId: `wamid.${random.uuid().replace(/-/g, '')}`,
      replyToId: earlier?.id ?? null,
      createdAt: new Date(time),
    });
  }
  return messages;
}

const PLANS: OrganizationPlan[] = [
  {
    id: DEMO_OWNERS[0].organizationId,
    ownerId: DEMO_OWNERS[0].memberId,
    name: 'Acme Coffee Roasters',
    domain: 'acme-coffee.example',
    contacts: 200,
    lists: 8,
    tags: 12,
    campaigns: 3,
    conversations: 150,
    members: [
      { name: 'Sam Support', role: 'support' },
      { name: 'Maya Marketing', role: 'marketing' },
    ],
  },
  {
    id: DEMO_OWNERS[1].organizationId,
    ownerId: DEMO_OWNERS[1].memberId,
    name: 'Globex Travel',
    domain: 'globex-travel.example',
    contacts: 20,
    lists: 2,
    tags: 3,
    campaigns: 1,
    conversations: 5,
    members: [{ name: 'Tom Travel', role: 'support' }],
  },
];

export interface SeededKey {
  organization: string;
  email: string;
  secret: string;
}

/**
 * Seeds both demo organizations in one transaction, unless the database already holds an
 * organization. Returns each owner's API key (the only time the secrets are known), or
 * undefined when nothing was seeded. `apiKeys` fixes the owners' keys (DEMO_API_KEY…).
 */
export async function seedDemoData(
  db: Database,
  apiKeys: readonly (string | undefined)[] = [],
): Promise<SeededKey[] | undefined> {
  return db.prisma.$transaction(
    async (tx) => {
      // Seeding is start-up work, not a request: DB_STATEMENT_TIMEOUT_MS must not cut it,
      // or the wait for the lock below, short (for this transaction only).
      await tx.$executeRawUnsafe('SET LOCAL statement_timeout = 0');
      // Two instances starting together on one empty database: the second waits here,
      // then finds the first one's organizations and seeds nothing.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${SEED_LOCK})`;
      if ((await tx.organization.count()) > 0) return undefined;
      const keys: SeededKey[] = [];
      for (const [index, plan] of PLANS.entries()) {
        await seedOrganization(tx, plan, seededRandom(20_261_121 + index));
        const key = newApiKey(apiKeys[index]);
        await tx.apiKey.create({
          data: {
            organizationId: plan.id,
            memberId: plan.ownerId,
            name: 'Demo key',
            prefix: key.prefix,
            keyHash: key.keyHash,
          },
        });
        keys.push({ organization: plan.name, email: `owner@${plan.domain}`, secret: key.secret });
      }
      return keys;
    },
    { timeout: 120_000, maxWait: 60_000 },
  );
}

/**
 * Makes DEMO_API_KEY / DEMO_API_KEY_2 valid keys of the demo owners, also on a database
 * seeded earlier with other keys. Does nothing for an organization that was not seeded.
 */
export async function ensureDemoKeys(prisma: PrismaClient, apiKeys: readonly (string | undefined)[]): Promise<void> {
  for (const [index, secret] of apiKeys.entries()) {
    const owner = DEMO_OWNERS[index];
    if (!secret || !owner) continue;
    const key = newApiKey(secret);
    const member = await prisma.organizationMember.findUnique({ where: { id: owner.memberId } });
    if (!member) continue;
    await prisma.apiKey.upsert({
      where: { keyHash: key.keyHash },
      create: {
        ...owner,
        name: `Demo key (DEMO_API_KEY${index === 0 ? '' : `_${index + 1}`})`,
        prefix: key.prefix,
        keyHash: key.keyHash,
      },
      // A demo key that was revoked stays revoked: configuration does not undo a revocation.
      update: {},
    });
  }
}

// Every connection of the API as SQL: the table its rows come from (and, for nested
// connections, the column that links them to their parent), its orderings, and how its
// filter arguments become conditions. Filter values arrive already decoded (raw ids,
// enum values) from the schema modules; everything user-given is a bound parameter.
import { Prisma } from '../generated/prisma/client.js';
import type {
  CampaignStatus,
  ContactStatus,
  ConversationStatus,
  MessageDirection,
  MessageStatus,
  MessageType,
  WhatsAppChannelStatus,
} from '../generated/prisma/enums.js';
import type { Ordering, SortColumn, Table } from './keyset.js';
import type { Source } from './connections.js';

const ID: SortColumn = { sql: 't."id"', type: 'uuid' };
const CREATED_AT: SortColumn = { sql: 't."createdAt"', type: 'timestamptz' };

/** Both directions of each sort field, named `<FIELD>_ASC` / `<FIELD>_DESC`. */
function orderings(fields: Record<string, SortColumn>): Record<string, Ordering> {
  return Object.fromEntries(
    Object.entries(fields).flatMap(([field, column]) =>
      [false, true].map((descending) => {
        const name = `${field}_${descending ? 'DESC' : 'ASC'}`;
        return [name, { name, descending, columns: [column, ID] }];
      }),
    ),
  );
}

const BY_CREATION = orderings({ CREATED_AT });

/** `%term%` for LIKE, with the pattern characters in `term` matched literally. */
function containing(term: string): string {
  return `%${term.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

function source<Filter = never>(
  name: string,
  table: Table,
  options: Partial<Pick<Source<Filter>, 'orderings' | 'defaultOrdering' | 'filter'>> = {},
): Source<Filter> {
  return { name, table, orderings: BY_CREATION, defaultOrdering: 'CREATED_AT_ASC', ...options };
}

/**
 * A connection through the join table `link` (aliased `j`) to the rows of `target` (aliased
 * `t`, its id in `j.<targetKey>`), per parent `parentTable` (its id in `j.<parentKey>`).
 *
 * Filtered counts go link by link (linkByLinkFrom). Joined, PostgreSQL's planner takes every
 * parent to be of the average size (a generic parameter), and for a search in many small
 * lists it scanned every contact of the database once per list (the noisy-neighbour figures
 * in bench/RESULTS.md). Link by link, a count reads at most its parent's links.
 */
function throughLink(link: string, target: string, targetKey: string, parentTable: string, parentKey: string): Table {
  return {
    from: `${link} j JOIN ${target} t ON t."id" = j."${targetKey}"`,
    parent: { table: parentTable, column: `j."${parentKey}"` },
    linkFrom: `${link} j`,
    linkByLinkFrom: `${link} j CROSS JOIN LATERAL (SELECT * FROM ${target} one WHERE one."id" = j."${targetKey}" OFFSET 0) t`,
  };
}

// --- contacts -------------------------------------------------------------------------------

export interface ContactCriteria {
  status?: ContactStatus[];
  listId?: string;
  tagId?: string;
  search?: string;
  createdAfter?: Date;
  createdBefore?: Date;
}

const contactOrderings = orderings({
  CREATED_AT,
  NAME: { sql: 't."name"', type: 'text' },
  PHONE: { sql: 't."phone"', type: 'text' },
});

function contactCriteriaSql(filter: ContactCriteria, org: Prisma.Sql): Prisma.Sql[] {
  const conditions: Prisma.Sql[] = [];
  if (filter.status) conditions.push(Prisma.sql`t."status" = ANY(${filter.status}::"ContactStatus"[])`);
  if (filter.listId) {
    conditions.push(
      Prisma.sql`EXISTS (SELECT 1 FROM "ContactListMembership" m WHERE m."organizationId" = ${org} AND m."contactId" = t."id" AND m."listId" = ${filter.listId}::uuid)`,
    );
  }
  if (filter.tagId) {
    conditions.push(
      Prisma.sql`EXISTS (SELECT 1 FROM "ContactTag" ct WHERE ct."organizationId" = ${org} AND ct."contactId" = t."id" AND ct."tagId" = ${filter.tagId}::uuid)`,
    );
  }
  if (filter.search) {
    // Phones are stored in E.164: "+1 (555) 010-2030" should find "+15550102030".
    const phoneTerm = filter.search.replace(/[\s().-]/g, '');
    conditions.push(
      phoneTerm
        ? Prisma.sql`(t."name" ILIKE ${containing(filter.search)} OR t."phone" LIKE ${containing(phoneTerm)})`
        : Prisma.sql`t."name" ILIKE ${containing(filter.search)}`,
    );
  }
  if (filter.createdAfter) conditions.push(Prisma.sql`t."createdAt" > ${filter.createdAfter}`);
  if (filter.createdBefore) conditions.push(Prisma.sql`t."createdAt" < ${filter.createdBefore}`);
  return conditions;
}

const contactOptions = { orderings: contactOrderings, filter: contactCriteriaSql };

export const organizationContacts = source<ContactCriteria>('contacts', { from: '"Contact" t' }, contactOptions);
export const listContacts = source<ContactCriteria>(
  'list.contacts',
  throughLink('"ContactListMembership"', '"Contact"', 'contactId', '"ContactList"', 'listId'),
  contactOptions,
);
export const tagContacts = source<ContactCriteria>(
  'tag.contacts',
  throughLink('"ContactTag"', '"Contact"', 'contactId', '"Tag"', 'tagId'),
  contactOptions,
);

// --- lists ----------------------------------------------------------------------------------

export interface ListCriteria {
  search?: string;
  tagId?: string;
}

function listCriteriaSql(filter: ListCriteria, org: Prisma.Sql): Prisma.Sql[] {
  const conditions: Prisma.Sql[] = [];
  if (filter.search) conditions.push(Prisma.sql`t."name" ILIKE ${containing(filter.search)}`);
  if (filter.tagId) {
    conditions.push(
      Prisma.sql`EXISTS (SELECT 1 FROM "ListTag" lt WHERE lt."organizationId" = ${org} AND lt."listId" = t."id" AND lt."tagId" = ${filter.tagId}::uuid)`,
    );
  }
  return conditions;
}

export const organizationLists = source<ListCriteria>(
  'lists',
  { from: '"ContactList" t' },
  { filter: listCriteriaSql },
);
/** A list's campaigns (through CampaignList), for counting the ones that were sent. */
export interface ListCampaignCriteria {
  status: CampaignStatus[];
}
export const listCampaigns = source<ListCampaignCriteria>(
  'list.campaigns',
  throughLink('"CampaignList"', '"Campaign"', 'campaignId', '"ContactList"', 'listId'),
  { filter: (filter) => [Prisma.sql`t."status" = ANY(${filter.status}::"CampaignStatus"[])`] },
);

export const contactLists = source(
  'contact.lists',
  throughLink('"ContactListMembership"', '"ContactList"', 'listId', '"Contact"', 'contactId'),
);

// --- tags -----------------------------------------------------------------------------------

export interface TagCriteria {
  search?: string;
}

export const organizationTags = source<TagCriteria>(
  'tags',
  { from: '"Tag" t' },
  { filter: (filter) => (filter.search ? [Prisma.sql`t."label" ILIKE ${containing(filter.search)}`] : []) },
);
export const contactTags = source(
  'contact.tags',
  throughLink('"ContactTag"', '"Tag"', 'tagId', '"Contact"', 'contactId'),
);
export const listTags = source('list.tags', throughLink('"ListTag"', '"Tag"', 'tagId', '"ContactList"', 'listId'));
export const conversationTags = source(
  'conversation.tags',
  throughLink('"ConversationTag"', '"Tag"', 'tagId', '"Conversation"', 'conversationId'),
);

// --- campaigns ------------------------------------------------------------------------------

export interface CampaignCriteria {
  status?: CampaignStatus[];
}

export const organizationCampaigns = source<CampaignCriteria>(
  'campaigns',
  { from: '"Campaign" t' },
  { filter: (filter) => (filter.status ? [Prisma.sql`t."status" = ANY(${filter.status}::"CampaignStatus"[])`] : []) },
);

// --- WhatsApp channels -----------------------------------------------------------------------

export interface ChannelCriteria {
  status?: WhatsAppChannelStatus[];
}

export const organizationChannels = source<ChannelCriteria>(
  'channels',
  { from: '"WhatsAppChannel" t' },
  {
    filter: (filter) =>
      filter.status ? [Prisma.sql`t."status" = ANY(${filter.status}::"WhatsAppChannelStatus"[])`] : [],
  },
);

// --- conversations --------------------------------------------------------------------------

export interface ConversationCriteria {
  status?: ConversationStatus[];
  contactId?: string;
  campaignId?: string;
  listId?: string;
  tagId?: string;
  assignedToId?: string;
  unassigned?: boolean;
  unread?: boolean;
}

/** Whether conversation `t` has an inbound message not read yet (the partial index "Message_unread_idx"). */
function unread(org: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`EXISTS (SELECT 1 FROM "Message" u WHERE u."organizationId" = ${org} AND u."conversationId" = t."id" AND u."direction" = 'INBOUND' AND u."status" <> 'READ')`;
}

export function conversationCriteriaSql(filter: ConversationCriteria, org: Prisma.Sql): Prisma.Sql[] {
  const conditions: Prisma.Sql[] = [];
  if (filter.status) conditions.push(Prisma.sql`t."status" = ANY(${filter.status}::"ConversationStatus"[])`);
  if (filter.contactId) conditions.push(Prisma.sql`t."contactId" = ${filter.contactId}::uuid`);
  if (filter.campaignId) conditions.push(Prisma.sql`t."campaignId" = ${filter.campaignId}::uuid`);
  if (filter.listId) {
    conditions.push(
      Prisma.sql`EXISTS (SELECT 1 FROM "ContactListMembership" m WHERE m."organizationId" = ${org} AND m."contactId" = t."contactId" AND m."listId" = ${filter.listId}::uuid)`,
    );
  }
  if (filter.tagId) {
    conditions.push(
      Prisma.sql`EXISTS (SELECT 1 FROM "ConversationTag" ct WHERE ct."organizationId" = ${org} AND ct."conversationId" = t."id" AND ct."tagId" = ${filter.tagId}::uuid)`,
    );
  }
  if (filter.assignedToId) conditions.push(Prisma.sql`t."assignedToId" = ${filter.assignedToId}::uuid`);
  if (filter.unassigned === true) conditions.push(Prisma.sql`t."assignedToId" IS NULL`);
  if (filter.unassigned === false) conditions.push(Prisma.sql`t."assignedToId" IS NOT NULL`);
  if (filter.unread === true) conditions.push(unread(org));
  if (filter.unread === false) conditions.push(Prisma.sql`NOT ${unread(org)}`);
  return conditions;
}

const conversationOptions = {
  orderings: orderings({
    CREATED_AT,
    LAST_MESSAGE_AT: { sql: 't."lastMessageAt"', type: 'timestamptz', nullable: true },
  }),
  filter: conversationCriteriaSql,
};

export const organizationConversations = source<ConversationCriteria>(
  'conversations',
  { from: '"Conversation" t' },
  conversationOptions,
);
export const contactConversations = source<ConversationCriteria>(
  'contact.conversations',
  { from: '"Conversation" t', parent: { table: '"Contact"', column: 't."contactId"' } },
  conversationOptions,
);

// --- messages -------------------------------------------------------------------------------

export interface MessageCriteria {
  direction?: MessageDirection;
  status?: MessageStatus[];
  messageType?: MessageType[];
  /** Inbound and not READ: written exactly as the partial index "Message_unread_idx" is. */
  unread?: true;
}

function messageCriteriaSql(filter: MessageCriteria): Prisma.Sql[] {
  const conditions: Prisma.Sql[] = [];
  if (filter.unread) conditions.push(Prisma.sql`t."direction" = 'INBOUND' AND t."status" <> 'READ'`);
  if (filter.direction) conditions.push(Prisma.sql`t."direction" = ${filter.direction}::"MessageDirection"`);
  if (filter.status) conditions.push(Prisma.sql`t."status" = ANY(${filter.status}::"MessageStatus"[])`);
  if (filter.messageType) conditions.push(Prisma.sql`t."messageType" = ANY(${filter.messageType}::"MessageType"[])`);
  return conditions;
}

/**
 * Oldest first, so that `last: 20` is the newest page of a chat and `before` scrolls back.
 * "Oldest" is commit order (Message.position, numbered in the conversation under its lock),
 * not createdAt: a message committed after a page was read always sorts after that page, so
 * a client paging forward from its last cursor never misses one.
 */
export const conversationMessages = source<MessageCriteria>(
  'conversation.messages',
  { from: '"Message" t', parent: { table: '"Conversation"', column: 't."conversationId"' } },
  {
    filter: messageCriteriaSql,
    orderings: orderings({ POSITION: { sql: 't."position"', type: 'int8' } }),
    defaultOrdering: 'POSITION_ASC',
  },
);

// --- organization -----------------------------------------------------------------------------

export const organizationMembers = source('members', { from: '"OrganizationMember" t' });
export const organizationApiKeys = source('apiKeys', { from: '"ApiKey" t' });

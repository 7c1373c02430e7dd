// Rows by id, loaded with the selection the GraphQL query asked for (the prisma plugin's
// `queryFromInfo`), so that relations under a page's nodes are fetched with them rather
// than one parent at a time. All ids of a model asked for with the same selection in one
// tick are one statement: a findMany when the selection holds relations, and otherwise
// plain SQL straight to the driver (`SELECT t.*`), which returns the same rows without
// Prisma's query building and result mapping (most of the time of a small lookup).
import DataLoader from 'dataloader';
import type { TenantClient } from '../db/tenant.js';
import type { TenantSql } from '../db/tenant-sql.js';
import {
  type ApiKey,
  type Campaign,
  type Contact,
  type ContactList,
  type Conversation,
  type Message,
  type Organization,
  type OrganizationMember,
  type OrganizationRole,
  Prisma,
  type Tag,
  type WhatsAppChannel,
} from '../generated/prisma/client.js';

/** The Prisma delegates (model accessors) of the API's node types, and their rows. */
export interface ModelRows {
  organization: Organization;
  organizationMember: OrganizationMember;
  organizationRole: OrganizationRole;
  apiKey: ApiKey;
  contact: Contact;
  contactList: ContactList;
  tag: Tag;
  campaign: Campaign;
  conversation: Conversation;
  message: Message;
  whatsAppChannel: WhatsAppChannel;
}
export type ModelKey = keyof ModelRows;

/** Each model's table and columns: what `SELECT t.*` returns. */
const TABLES: Readonly<Record<ModelKey, { name: string; columns: ReadonlySet<string> }>> = {
  organization: table('Organization', Prisma.OrganizationScalarFieldEnum),
  organizationMember: table('OrganizationMember', Prisma.OrganizationMemberScalarFieldEnum),
  organizationRole: table('OrganizationRole', Prisma.OrganizationRoleScalarFieldEnum),
  apiKey: table('ApiKey', Prisma.ApiKeyScalarFieldEnum),
  contact: table('Contact', Prisma.ContactScalarFieldEnum),
  contactList: table('ContactList', Prisma.ContactListScalarFieldEnum),
  tag: table('Tag', Prisma.TagScalarFieldEnum),
  campaign: table('Campaign', Prisma.CampaignScalarFieldEnum),
  conversation: table('Conversation', Prisma.ConversationScalarFieldEnum),
  message: table('Message', Prisma.MessageScalarFieldEnum),
  whatsAppChannel: table('WhatsAppChannel', Prisma.WhatsAppChannelScalarFieldEnum),
};

function table(name: string, columns: Readonly<Record<string, string>>) {
  return { name, columns: new Set(Object.values(columns)) };
}

/** What a `queryFromInfo` query asks for beyond the model's own columns: its relations. */
export function selectedRelations(model: ModelKey, query: { include?: object; select?: object }): string[] {
  const { columns } = TABLES[model];
  return [...Object.keys(query.include ?? {}), ...Object.keys(query.select ?? {})].filter((name) => !columns.has(name));
}

interface Delegate {
  findMany(args: object): Promise<{ id: string }[]>;
}

/** A `select` (rather than `include`) query may leave out the id the rows are matched by. */
function selectingId(query: object): object {
  return 'select' in query && query.select ? { ...query, select: { ...query.select, id: true } } : query;
}

export class NodeLoaders {
  private readonly loaders = new Map<string, DataLoader<string, object | null>>();

  constructor(
    private readonly db: TenantClient,
    private readonly sql: TenantSql,
  ) {}

  /** Rows in the order of `ids`; null where a row does not exist (in this organization). */
  load<M extends ModelKey>(model: M, ids: readonly string[], query: object = {}): Promise<(ModelRows[M] | null)[]> {
    const withRelations = selectedRelations(model, query).length > 0;
    const key = withRelations ? `${model}|${JSON.stringify(query)}` : model;
    let loader = this.loaders.get(key);
    if (!loader) {
      loader = new DataLoader(async (batch) => {
        const rows = withRelations ? await this.findMany(model, query, batch) : await this.selectRows(model, batch);
        const byId = new Map(rows.map((row) => [row.id, row]));
        return batch.map((id) => byId.get(id) ?? null);
      });
      this.loaders.set(key, loader);
    }
    return loader.loadMany(ids).then((rows) =>
      rows.map((row) => {
        if (row instanceof Error) throw row;
        return row as ModelRows[M] | null;
      }),
    );
  }

  private findMany(model: ModelKey, query: object, ids: readonly string[]): Promise<{ id: string }[]> {
    const delegate = this.db[model] as unknown as Delegate;
    return delegate.findMany({ ...selectingId(query), where: { id: { in: [...ids] } } });
  }

  private selectRows(model: ModelKey, ids: readonly string[]): Promise<{ id: string }[]> {
    const from = Prisma.raw(`"${TABLES[model].name}" t`);
    // The organization is the one row whose id is the tenant; every other row carries it.
    const tenant = Prisma.raw(model === 'organization' ? 't."id"' : 't."organizationId"');
    return this.sql.query<{ id: string }>(
      (org) => Prisma.sql`SELECT t.* FROM ${from} WHERE t."id" = ANY(${[...ids]}::uuid[]) AND ${tenant} = ${org}`,
    );
  }
}

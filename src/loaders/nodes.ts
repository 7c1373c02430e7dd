// Rows by id, loaded with the selection the GraphQL query asked for (the prisma plugin's
// `queryFromInfo`), so that relations under a page's nodes are fetched with them rather
// than one parent at a time. All ids asked for with the same selection in one tick are
// one findMany.
import DataLoader from 'dataloader';
import type { TenantClient } from '../db/tenant.js';
import type {
  ApiKey,
  Campaign,
  Contact,
  ContactList,
  Conversation,
  Message,
  Organization,
  OrganizationMember,
  OrganizationRole,
  Tag,
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
}
export type ModelKey = keyof ModelRows;

interface Delegate {
  findMany(args: object): Promise<{ id: string }[]>;
}

/** A `select` (rather than `include`) query may leave out the id the rows are matched by. */
function selectingId(query: object): object {
  return 'select' in query && query.select ? { ...query, select: { ...query.select, id: true } } : query;
}

export class NodeLoaders {
  private readonly loaders = new Map<string, DataLoader<string, object | null>>();

  constructor(private readonly db: TenantClient) {}

  /** Rows in the order of `ids`; null where a row does not exist (in this organization). */
  load<M extends ModelKey>(model: M, ids: readonly string[], query: object = {}): Promise<(ModelRows[M] | null)[]> {
    const key = `${model}|${JSON.stringify(query)}`;
    let loader = this.loaders.get(key);
    if (!loader) {
      const delegate = this.db[model] as unknown as Delegate;
      loader = new DataLoader(async (batch) => {
        const rows = await delegate.findMany({ ...selectingId(query), where: { id: { in: [...batch] } } });
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
}

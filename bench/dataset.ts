// The size of the benchmark dataset: five organizations, one large (the one the benchmark
// queries) and four small ones, so that every query also has to skip other tenants' rows
// as a real multi-tenant database would make it. `scale` multiplies every count.

export interface OrganizationPlan {
  /** 0 is the large organization the benchmark acts in. */
  index: number;
  name: string;
  domain: string;
  members: number;
  contacts: number;
  lists: number;
  /** Lists hold from 10 members up to this many, sizes spread geometrically. */
  maxListSize: number;
  tags: number;
  campaigns: number;
  conversations: number;
  /**
   * "Whale" conversations with 5,000 to 8,000 messages (the others hold 1 to 131, about
   * 44 on average). Contact #k owns whales 5k to 5k+4, so the large organization's first
   * contact has five of them: the deep chat view's subject.
   */
  whales: number;
}

/** Fixed secret of the benchmark owner's API key (only its SHA-256 is stored). */
export const BENCH_API_KEY = 'wag_bench_owner_key_0001';

/** What the contact table operation searches for: ~2% of the generated names contain it. */
export const CONTACT_SEARCH = 'mendes';

/** Whale conversations per contact that owns whales (see `whales`). */
export const WHALES_PER_CONTACT = 5;

const ORGANIZATIONS = [
  { name: 'Lumen Coffee Roasters', domain: 'lumen-coffee.example', size: 1 },
  { name: 'Pampa Telecom', domain: 'pampa-telecom.example', size: 0.05 },
  { name: 'Kiri Health Clinics', domain: 'kiri-health.example', size: 0.05 },
  { name: 'Orla Fashion', domain: 'orla-fashion.example', size: 0.05 },
  { name: 'Nuvem Logistics', domain: 'nuvem-logistics.example', size: 0.05 },
] as const;

const FULL_SIZE = {
  members: 25,
  contacts: 100_000,
  lists: 500,
  maxListSize: 20_000,
  tags: 2_000,
  campaigns: 50,
  conversations: 20_000,
  whales: 20,
};

export function datasetPlan(scale: number): OrganizationPlan[] {
  if (!(scale > 0) || scale > 20) throw new Error(`--scale must be a number in (0, 20], got ${scale}`);
  return ORGANIZATIONS.map(({ name, domain, size }, index) => {
    const count = (full: number, min: number) => Math.max(min, Math.round(full * size * scale));
    const contacts = count(FULL_SIZE.contacts, 50);
    const conversations = count(FULL_SIZE.conversations, 20);
    return {
      index,
      name,
      domain,
      // Members are people, not data volume: they do not scale.
      members: Math.max(3, Math.round(FULL_SIZE.members * size)),
      contacts,
      lists: count(FULL_SIZE.lists, 5),
      maxListSize: Math.min(contacts, count(FULL_SIZE.maxListSize, 10)),
      tags: count(FULL_SIZE.tags, 10),
      campaigns: count(FULL_SIZE.campaigns, 2),
      conversations,
      whales: Math.min(conversations, index === 0 ? Math.max(WHALES_PER_CONTACT, count(FULL_SIZE.whales, 0)) : 1),
    };
  });
}

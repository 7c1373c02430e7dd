// What the benchmark needs to know about the seeded dataset, recorded by `bench:seed` in
// bench.fixture and read back at bench time: the organization it acts in, the API key,
// and the ids its operations ask for.
import pg from 'pg';

/** A row named by its GraphQL type and raw uuid; each server encodes its own global id. */
export interface TypedId {
  type: 'Organization' | 'OrganizationMember' | 'Contact' | 'List' | 'Tag' | 'Campaign' | 'Conversation' | 'Message';
  id: string;
}

export interface Fixture {
  scale: number;
  /** Seconds `bench:seed` took, migrations to VACUUM ANALYZE. */
  seedSeconds: number;
  rows: Record<string, number>;
  organizationId: string;
  ownerMemberId: string;
  apiKey: string;
  contactSearch: string;
  /** 50 ids of mixed types, for nodes(ids:). */
  nodeIds: TypedId[];
  /** A contact with five conversations of 5,000+ messages each, for the deep chat view. */
  chatContactId: string;
}

export class FixtureMissingError extends Error {
  override name = 'FixtureMissingError';
}

export async function readFixture(url: string): Promise<Fixture> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (error) {
    throw new FixtureMissingError(
      `Cannot connect to the bench database (${(error as Error).message}); run npm run bench:seed`,
    );
  }
  try {
    const { rows } = await client
      .query<{ value: Fixture }>(`SELECT value FROM bench.fixture WHERE name = 'fixture'`)
      .catch(() => ({ rows: [] as { value: Fixture }[] }));
    if (!rows[0]) throw new FixtureMissingError('The bench database holds no fixture; run npm run bench:seed');
    return rows[0].value;
  } finally {
    await client.end();
  }
}

export const WRITE_FIXTURE = `
INSERT INTO bench.fixture (name, value) VALUES ('fixture', $1::jsonb)
ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value`;

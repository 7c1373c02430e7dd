// How the PostGraphile peer is scoped to one organization, the way PostGraphile is run
// multi-tenant in production: it connects as a role without superuser rights, so row
// level security applies to it, and it sends the organization of each request as the
// transaction-local setting `bench.organization_id` (PostGraphile's `pgSettings`).
// The policies only name that role: wagraph and the raw-SQL floor connect as the
// superuser `postgres`, which bypasses row level security, so they are not affected.
//
// Also here: `bench_peer.search_contacts(term)`, a custom query function, because core
// PostGraphile has no substring search; it is PostGraphile's documented way to add one,
// and it matches name or phone as wagraph's ContactFilter.search does.
import pg from 'pg';

export const PEER_ROLE = 'wagraph_bench_peer';

/** The same URL, but connecting as the peer's role. */
export function peerDatabaseUrl(url: string): string {
  const parsed = new URL(url);
  parsed.username = PEER_ROLE;
  parsed.password = '';
  return parsed.toString();
}

const TENANT_TABLES = [
  'OrganizationMember',
  'OrganizationRole',
  'RoleAssignment',
  'Contact',
  'ContactList',
  'ContactListMembership',
  'Tag',
  'ContactTag',
  'ListTag',
  'ConversationTag',
  'Campaign',
  'CampaignList',
  'Conversation',
  'Message',
];

const ORGANIZATION = `current_setting('bench.organization_id', true)::uuid`;

const SETUP = String.raw`
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${PEER_ROLE}') THEN
    CREATE ROLE ${PEER_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS;
  END IF;
END $$;
GRANT USAGE ON SCHEMA public TO ${PEER_ROLE};
-- Read-only, and never the API keys.
GRANT SELECT ON ${['Organization', ...TENANT_TABLES].map((table) => `"${table}"`).join(', ')} TO ${PEER_ROLE};

ALTER TABLE "Organization" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS bench_peer_tenant ON "Organization";
CREATE POLICY bench_peer_tenant ON "Organization" FOR SELECT TO ${PEER_ROLE} USING (id = ${ORGANIZATION});
${TENANT_TABLES.map(
  (table) => `
ALTER TABLE "${table}" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS bench_peer_tenant ON "${table}";
CREATE POLICY bench_peer_tenant ON "${table}" FOR SELECT TO ${PEER_ROLE} USING ("organizationId" = ${ORGANIZATION});`,
).join('')}

DROP SCHEMA IF EXISTS bench_peer CASCADE;
CREATE SCHEMA bench_peer;
GRANT USAGE ON SCHEMA bench_peer TO ${PEER_ROLE};
-- LIKE wildcards in a search term match literally, as in wagraph.
CREATE FUNCTION bench_peer.like_escape(term text) RETURNS text
  LANGUAGE sql IMMUTABLE
  AS $fn$ SELECT regexp_replace(term, '([\\%_])', '\\\1', 'g') $fn$;
-- Phones are stored in E.164: "+1 (555) 010" should find "+1555010…".
CREATE FUNCTION bench_peer.phone_term(term text) RETURNS text
  LANGUAGE sql IMMUTABLE
  AS $fn$ SELECT regexp_replace(term, '[\s().-]', '', 'g') $fn$;
-- Same semantics as wagraph's ContactFilter.search, in wagraph's default order
-- (createdAt, id). A plain STABLE SQL function, so PostgreSQL inlines it and the LIMIT
-- of the connection reaches the scan.
CREATE FUNCTION bench_peer.search_contacts(term text) RETURNS SETOF public."Contact"
  LANGUAGE sql STABLE
  AS $fn$
    SELECT c.* FROM public."Contact" c
    WHERE c.name ILIKE '%' || bench_peer.like_escape(term) || '%'
       OR (bench_peer.phone_term(term) <> ''
           AND c.phone LIKE '%' || bench_peer.like_escape(bench_peer.phone_term(term)) || '%')
    ORDER BY c."createdAt", c.id
  $fn$;
GRANT EXECUTE ON FUNCTION bench_peer.search_contacts(text) TO ${PEER_ROLE};
`;

/** Idempotent: run before every start of the peer. */
export async function preparePeerAccess(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(SETUP);
  } finally {
    await client.end();
  }
}

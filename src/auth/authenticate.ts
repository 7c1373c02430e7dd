// Credentials → the member a request acts as. Authentication reads unscoped, because it
// is what establishes the organization; everything after it is scoped.
//
// Its two statements are hand-written SQL sent straight to the driver (Database.query), not
// Prisma queries: they run on every request, and Prisma's query building and result mapping
// cost about three times the statement itself here (2.2 ms against 0.8 ms per lookup).
import { type Database, unrecorded } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';
import { apiKeyMatches, apiKeyPrefix } from './api-keys.js';
import { AuthenticationError, credentialOf } from './credentials.js';
import { JwtRejected, type JwtVerifier, verifyJwt } from './jwt.js';
import { effectivePermissions, type Permission } from './permissions.js';

export { AuthenticationError } from './credentials.js';

interface Member {
  memberId: string;
  organizationId: string;
  accessLevel: 'OWNER' | 'MEMBER';
  permissions: ReadonlySet<Permission>;
}

/** The member a request acts as, and the kind of credential it presented. */
export type Viewer = Member &
  (
    | { credential: 'apiKey' /** The API key the request presented. */; apiKeyId: string }
    | { credential: 'jwt'; apiKeyId?: undefined }
  );

export interface AuthenticationOptions {
  /** How JWTs are checked (JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE); undefined: JWTs are refused. */
  jwt?: JwtVerifier | undefined;
}

/** lastUsedAt is written at most this often per key, so that reads do not all become writes. */
const LAST_USED_RESOLUTION_MS = 60_000;

type Queryable = Pick<Database, 'query'>;

interface MemberRow {
  memberId: string;
  organizationId: string;
  accessLevel: 'OWNER' | 'MEMBER';
  /** The permissions of all the member's roles (with repeats). */
  permissions: string[];
}

/** The columns of a MemberRow, from `OrganizationMember m` joined to MEMBER_PERMISSIONS. */
const MEMBER_COLUMNS = Prisma.sql`m."id" AS "memberId", m."organizationId", m."accessLevel"::text AS "accessLevel", p."permissions"`;

/** The permissions of member `m`'s roles, as `p."permissions"`. */
const MEMBER_PERMISSIONS = Prisma.sql`CROSS JOIN LATERAL (
    SELECT COALESCE(array_agg(permission), '{}') AS "permissions"
    FROM "RoleAssignment" a
    JOIN "OrganizationRole" r ON r."organizationId" = a."organizationId" AND r."id" = a."roleId"
    CROSS JOIN unnest(r."permissions") AS permission
    WHERE a."organizationId" = m."organizationId" AND a."memberId" = m."id"
  ) p`;

function memberOf(row: MemberRow): Member {
  return {
    memberId: row.memberId,
    organizationId: row.organizationId,
    accessLevel: row.accessLevel,
    permissions: effectivePermissions(row.accessLevel, row.permissions),
  };
}

/** The viewer of a request, from its headers; throws an AuthenticationError when there is none. */
export async function authenticate(
  database: Queryable,
  headers: Headers,
  options: AuthenticationOptions = {},
): Promise<Viewer> {
  const credential = credentialOf(headers);
  if (credential.kind === 'jwt') {
    if (!options.jwt) {
      throw new AuthenticationError('JWT authentication is not enabled on this server: use an API key.');
    }
    return authenticateJwt(database, credential.token, options.jwt);
  }
  const viewer = await authenticateApiKey(database, credential.secret);
  if (!viewer) throw new AuthenticationError('The API key is not valid (unknown or revoked).');
  return viewer;
}

export async function authenticateApiKey(database: Queryable, secret: string): Promise<Viewer | undefined> {
  const candidates = await database.query<
    MemberRow & { id: string; keyHash: string; lastUsedAt: Date | null }
  >(Prisma.sql`
    SELECT k."id", k."keyHash", k."lastUsedAt", ${MEMBER_COLUMNS}
    FROM "ApiKey" k
    JOIN "OrganizationMember" m ON m."organizationId" = k."organizationId" AND m."id" = k."memberId"
    ${MEMBER_PERMISSIONS}
    WHERE k."prefix" = ${apiKeyPrefix(secret)} AND k."revokedAt" IS NULL`);
  // Compare against every candidate, so the time taken does not depend on which matched.
  const matches = candidates.filter((candidate) => apiKeyMatches(secret, candidate.keyHash));
  const key = matches[0];
  if (!key) return undefined;

  if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    // Bookkeeping, not part of the request: never delay or fail the request for it, and
    // keep it out of the request's statement count (it happens once a minute per key).
    void unrecorded(() =>
      database
        .query(
          Prisma.sql`UPDATE "ApiKey" SET "lastUsedAt" = now(), "updatedAt" = now()
            WHERE "id" = ${key.id}::uuid AND "organizationId" = ${key.organizationId}::uuid`,
        )
        .catch(() => {}),
    );
  }
  return { ...memberOf(key), credential: 'apiKey', apiKeyId: key.id };
}

/**
 * A JWT is only as good as its member: one that was removed, or that is not in the
 * organization the token names, is refused even though the signature is valid.
 */
export async function authenticateJwt(database: Queryable, token: string, verifier: JwtVerifier): Promise<Viewer> {
  // Every refusal but expiry reads the same to the client: which check failed would tell
  // someone probing with forged or stolen tokens what to try next.
  const invalid = (reason: string) =>
    new AuthenticationError(
      'The JWT is not valid (signature, algorithm or claims are wrong, or its member is not in its organization).',
      reason,
    );
  let subject;
  try {
    subject = await verifyJwt(token, verifier);
  } catch (error) {
    if (!(error instanceof JwtRejected)) throw error;
    if (error.expired) throw new AuthenticationError('The JWT has expired: get a new one.', error.reason);
    throw invalid(error.reason);
  }
  // Both ids are UUIDs: verifyJwt only returns well-formed global ids.
  const [member] = await database.query<MemberRow>(Prisma.sql`
    SELECT ${MEMBER_COLUMNS}
    FROM "OrganizationMember" m
    ${MEMBER_PERMISSIONS}
    WHERE m."id" = ${subject.memberId}::uuid AND m."organizationId" = ${subject.organizationId}::uuid`);
  if (!member) throw invalid('no such member in the organization named by org');
  return { ...memberOf(member), credential: 'jwt' };
}

/**
 * What a rate budget is kept per: the member, whatever credential it presents (every API
 * key and JWT of a member draws on one budget, so minting keys buys nothing), and, as a
 * ceiling over all its members, the organization.
 */
export function budgetKeys(viewer: Viewer): { member: string; organization: string } {
  return { member: `member:${viewer.memberId}`, organization: `organization:${viewer.organizationId}` };
}

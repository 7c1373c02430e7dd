// Credentials → the member a request acts as. Authentication reads unscoped, because it
// is what establishes the organization; everything after it is scoped. Its statements are
// in ./credential-lookup.ts.
import { apiKeyMatches, apiKeyPrefix } from './api-keys.js';
import {
  apiKeysWithPrefix,
  type MemberRow,
  memberOfOrganization,
  type Queryable,
  touchApiKey,
} from './credential-lookup.js';
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
export type AuthenticatedMember = Member &
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
): Promise<AuthenticatedMember> {
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

export async function authenticateApiKey(
  database: Queryable,
  secret: string,
): Promise<AuthenticatedMember | undefined> {
  const candidates = await apiKeysWithPrefix(database, apiKeyPrefix(secret));
  // Compare against every candidate, so the time taken does not depend on which matched.
  const matches = candidates.filter((candidate) => apiKeyMatches(secret, candidate.keyHash));
  const key = matches[0];
  if (!key) return undefined;

  if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    touchApiKey(database, key.id, key.organizationId);
  }
  return { ...memberOf(key), credential: 'apiKey', apiKeyId: key.id };
}

/**
 * A JWT is only as good as its member: one that was removed, or that is not in the
 * organization the token names, is refused even though the signature is valid.
 */
export async function authenticateJwt(
  database: Queryable,
  token: string,
  verifier: JwtVerifier,
): Promise<AuthenticatedMember> {
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
  const member = await memberOfOrganization(database, subject.memberId, subject.organizationId);
  if (!member) throw invalid('no such member in the organization named by org');
  return { ...memberOf(member), credential: 'jwt' };
}

/**
 * What a rate budget is kept per: the member, whatever credential it presents (every API
 * key and JWT of a member draws on one budget, so minting keys buys nothing), and, as a
 * ceiling over all its members, the organization.
 */
export function budgetKeys(viewer: AuthenticatedMember): { member: string; organization: string } {
  return { member: `member:${viewer.memberId}`, organization: `organization:${viewer.organizationId}` };
}

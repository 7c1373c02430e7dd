// Credentials → the member a request acts as. Authentication reads with the root client
// because it is what establishes the organization; everything after it is scoped.
import { unrecorded } from '../db/client.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { apiKeyMatches, apiKeyPrefix } from './api-keys.js';
import { AuthenticationError, credentialOf } from './credentials.js';
import { JwtRejected, verifyJwt } from './jwt.js';
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
    | { credential: 'apiKey'; /** The API key the request presented. */ apiKeyId: string }
    | { credential: 'jwt'; apiKeyId?: undefined }
  );

export interface AuthenticationOptions {
  /** The HS256 key for JWTs (JWT_SECRET); undefined: JWTs are refused. */
  jwtKey?: Uint8Array | undefined;
}

/** lastUsedAt is written at most this often per key, so that reads do not all become writes. */
const LAST_USED_RESOLUTION_MS = 60_000;

const MEMBER_SELECT = {
  id: true,
  organizationId: true,
  accessLevel: true,
  roleAssignments: { select: { role: { select: { permissions: true } } } },
} as const;

function memberOf(row: {
  id: string;
  organizationId: string;
  accessLevel: 'OWNER' | 'MEMBER';
  roleAssignments: { role: { permissions: string[] } }[];
}): Member {
  return {
    memberId: row.id,
    organizationId: row.organizationId,
    accessLevel: row.accessLevel,
    permissions: effectivePermissions(
      row.accessLevel,
      row.roleAssignments.flatMap((assignment) => assignment.role.permissions),
    ),
  };
}

/** The viewer of a request, from its headers; throws an AuthenticationError when there is none. */
export async function authenticate(
  prisma: PrismaClient,
  headers: Headers,
  options: AuthenticationOptions = {},
): Promise<Viewer> {
  const credential = credentialOf(headers);
  if (credential.kind === 'jwt') {
    if (!options.jwtKey) {
      throw new AuthenticationError('JWT authentication is not enabled on this server: use an API key.');
    }
    return authenticateJwt(prisma, credential.token, options.jwtKey);
  }
  const viewer = await authenticateApiKey(prisma, credential.secret);
  if (!viewer) throw new AuthenticationError('The API key is not valid (unknown or revoked).');
  return viewer;
}

export async function authenticateApiKey(prisma: PrismaClient, secret: string): Promise<Viewer | undefined> {
  const candidates = await prisma.apiKey.findMany({
    where: { prefix: apiKeyPrefix(secret), revokedAt: null },
    select: { id: true, keyHash: true, lastUsedAt: true, member: { select: MEMBER_SELECT } },
  });
  // Compare against every candidate, so the time taken does not depend on which matched.
  const matches = candidates.filter((candidate) => apiKeyMatches(secret, candidate.keyHash));
  const key = matches[0];
  if (!key) return undefined;

  if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    // Bookkeeping, not part of the request: never delay or fail the request for it, and
    // keep it out of the request's statement count (it happens once a minute per key).
    unrecorded(() =>
      prisma.apiKey.update({ where: { id: key.id }, data: { lastUsedAt: new Date() } }).catch(() => {}),
    );
  }
  return { ...memberOf(key.member), credential: 'apiKey', apiKeyId: key.id };
}

/**
 * A JWT is only as good as its member: one that was removed, or that is not in the
 * organization the token names, is refused even though the signature is valid.
 */
export async function authenticateJwt(prisma: PrismaClient, token: string, key: Uint8Array): Promise<Viewer> {
  // Every refusal but expiry reads the same to the client: which check failed would tell
  // someone probing with forged or stolen tokens what to try next.
  const invalid = (reason: string) =>
    new AuthenticationError(
      'The JWT is not valid (signature, algorithm or claims are wrong, or its member is not in its organization).',
      reason,
    );
  let subject;
  try {
    subject = await verifyJwt(token, key);
  } catch (error) {
    if (!(error instanceof JwtRejected)) throw error;
    if (error.expired) throw new AuthenticationError('The JWT has expired: get a new one.', error.reason);
    throw invalid(error.reason);
  }
  const member = await prisma.organizationMember.findFirst({
    where: { id: subject.memberId, organizationId: subject.organizationId },
    select: MEMBER_SELECT,
  });
  if (!member) throw invalid('no such member in the organization named by org');
  return { ...memberOf(member), credential: 'jwt' };
}

/** What a budget (the rate limit) is kept per: the API key, or the member a JWT names. */
export function credentialKey(viewer: Viewer): string {
  return viewer.credential === 'apiKey' ? `key:${viewer.apiKeyId}` : `member:${viewer.memberId}`;
}

// Credentials → the member a request acts as. Authentication reads with the root client
// because it is what establishes the organization; everything after it is scoped.
import { unrecorded } from '../db/client.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { apiKeyMatches, apiKeyPrefix } from './api-keys.js';
import { effectivePermissions, type Permission } from './permissions.js';

export interface Viewer {
  memberId: string;
  organizationId: string;
  accessLevel: 'OWNER' | 'MEMBER';
  permissions: ReadonlySet<Permission>;
  /** The API key the request presented. */
  apiKeyId: string;
}

/** lastUsedAt is written at most this often per key, so that reads do not all become writes. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** `Bearer <token>` → token; anything else → undefined. */
export function bearerToken(authorization: string | null): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

export async function authenticateApiKey(prisma: PrismaClient, secret: string): Promise<Viewer | undefined> {
  const candidates = await prisma.apiKey.findMany({
    where: { prefix: apiKeyPrefix(secret), revokedAt: null },
    select: {
      id: true,
      keyHash: true,
      lastUsedAt: true,
      organizationId: true,
      member: {
        select: {
          id: true,
          accessLevel: true,
          roleAssignments: { select: { role: { select: { permissions: true } } } },
        },
      },
    },
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
  return {
    memberId: key.member.id,
    organizationId: key.organizationId,
    accessLevel: key.member.accessLevel,
    permissions: effectivePermissions(
      key.member.accessLevel,
      key.member.roleAssignments.flatMap((assignment) => assignment.role.permissions),
    ),
    apiKeyId: key.id,
  };
}

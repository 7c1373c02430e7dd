// JWTs signed by the operator's own identity service (HS256 with JWT_SECRET). Claims:
// `sub` the member's global id, `org` its organization's global id, `exp` required; `iss`
// and `aud` required and checked when JWT_ISSUER / JWT_AUDIENCE are set, so that a token
// the identity service issued for another audience is not accepted here. Only HS256 is
// accepted: naming the one algorithm shuts out `alg: none` and algorithm confusion
// (https://www.rfc-editor.org/rfc/rfc8725#section-3.1).
//
// A token lives at most JWT_MAX_LIFETIME_SECONDS: one that is valid for longer (`exp:
// 1e300`, a leaked test token) is refused as invalid, not honoured for ever. `iat` is
// optional; the lifetime counts from `iat`, or from now when it is absent or later than now,
// so a future `iat` cannot stretch it. A token whose `iat` is in the future is refused.
import { jwtVerify } from 'jose';
import { parseGlobalId } from '../global-id.js';

export interface JwtSubject {
  memberId: string;
  organizationId: string;
}

/** Why a JWT was refused. `expired` is the one reason a client is told: it can act on it. */
export class JwtRejected extends Error {
  override name = 'JwtRejected';
  constructor(
    readonly reason: string,
    readonly expired = false,
  ) {
    super(reason);
  }
}

/** Seconds of clock difference tolerated between the token's issuer and this server. */
const CLOCK_TOLERANCE_S = 5;

/** The JWT settings (JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE). */
export interface JwtSettings {
  secret: string;
  issuer?: string | undefined;
  audience?: string | undefined;
  /** JWT_MAX_LIFETIME_SECONDS; default DEFAULT_JWT_MAX_LIFETIME_S. */
  maxLifetimeSeconds?: number | undefined;
}

export const DEFAULT_JWT_MAX_LIFETIME_S = 86_400;

/** What a token is checked against: the key, the expected issuer and audience, the longest lifetime. */
export interface JwtVerifier {
  key: Uint8Array;
  issuer?: string | undefined;
  audience?: string | undefined;
  maxLifetimeSeconds: number;
}

export function jwtKey(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

export function jwtVerifier(settings: JwtSettings): JwtVerifier {
  return {
    key: jwtKey(settings.secret),
    issuer: settings.issuer,
    audience: settings.audience,
    maxLifetimeSeconds: settings.maxLifetimeSeconds ?? DEFAULT_JWT_MAX_LIFETIME_S,
  };
}

export async function verifyJwt(token: string, verifier: JwtVerifier): Promise<JwtSubject> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, verifier.key, {
      algorithms: ['HS256'],
      requiredClaims: ['exp', 'sub', 'org'],
      clockTolerance: CLOCK_TOLERANCE_S,
      ...(verifier.issuer !== undefined ? { issuer: verifier.issuer } : {}),
      ...(verifier.audience !== undefined ? { audience: verifier.audience } : {}),
    }));
  } catch (error) {
    // jose checks the signature before the claims, so "expired" is only ever said of a
    // token this server signed. Anything else thrown on an untrusted token is a refusal too.
    const code = (error as { code?: unknown }).code;
    throw new JwtRejected(`${String(code ?? 'ERR_JWT')}: ${(error as Error).message}`, code === 'ERR_JWT_EXPIRED');
  }
  // jose has checked that exp (and iat, when present) are numbers and that exp is not past.
  const now = Date.now() / 1000;
  const { exp, iat } = payload as { exp: number; iat?: number };
  if (iat !== undefined && iat > now + CLOCK_TOLERANCE_S) throw new JwtRejected('iat is in the future');
  const lifetime = exp - Math.min(iat ?? now, now);
  if (lifetime > verifier.maxLifetimeSeconds + CLOCK_TOLERANCE_S) {
    throw new JwtRejected(
      `lifetime of ${Math.round(lifetime)} s exceeds JWT_MAX_LIFETIME_SECONDS (${verifier.maxLifetimeSeconds})`,
    );
  }
  const member = typeof payload.sub === 'string' ? parseGlobalId(payload.sub) : undefined;
  const organization = typeof payload.org === 'string' ? parseGlobalId(payload.org) : undefined;
  if (member?.typename !== 'OrganizationMember')
    throw new JwtRejected('sub is not the global id of an OrganizationMember');
  if (organization?.typename !== 'Organization') throw new JwtRejected('org is not the global id of an Organization');
  return { memberId: member.id, organizationId: organization.id };
}

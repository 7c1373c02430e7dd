// JWTs signed by the operator's own identity service (HS256 with JWT_SECRET). Claims:
// `sub` the member's global id, `org` its organization's global id, `exp` required; `iss`
// and `aud` required and checked when JWT_ISSUER / JWT_AUDIENCE are set, so that a token
// the identity service issued for another audience is not accepted here. Only HS256 is
// accepted: naming the one algorithm shuts out `alg: none` and algorithm confusion
// (https://www.rfc-editor.org/rfc/rfc8725#section-3.1).
import { jwtVerify } from 'jose';
import { parseGlobalId } from '../schema/global-id.js';

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
}

/** What a token is checked against: the key and the expected issuer and audience. */
export interface JwtVerifier {
  key: Uint8Array;
  issuer?: string | undefined;
  audience?: string | undefined;
}

export function jwtKey(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

export function jwtVerifier(settings: JwtSettings): JwtVerifier {
  return { key: jwtKey(settings.secret), issuer: settings.issuer, audience: settings.audience };
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
  const member = typeof payload.sub === 'string' ? parseGlobalId(payload.sub) : undefined;
  const organization = typeof payload.org === 'string' ? parseGlobalId(payload.org) : undefined;
  if (member?.typename !== 'OrganizationMember') throw new JwtRejected('sub is not the global id of an OrganizationMember');
  if (organization?.typename !== 'Organization') throw new JwtRejected('org is not the global id of an Organization');
  return { memberId: member.id, organizationId: organization.id };
}

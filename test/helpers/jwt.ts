// JWTs as an operator's identity service would issue them for wagraph (HS256, JWT_SECRET).
import { type JWTPayload, SignJWT } from 'jose';
import { jwtKey } from '../../src/auth/jwt.js';
import { globalId } from './client.js';
import type { TestMember } from './factories.js';

export const JWT_SECRET = 'a-test-secret-that-is-32-chars-long-at-least';

/** Claims of a valid token of `member`, valid for an hour; `overrides` with undefined drop a claim. */
export function memberClaims(member: TestMember, overrides: JWTPayload = {}): JWTPayload {
  const claims: JWTPayload = {
    sub: globalId('OrganizationMember', member.id),
    org: globalId('Organization', member.organizationId),
    exp: Math.floor(Date.now() / 1000) + 3_600,
    iat: Math.floor(Date.now() / 1000),
    ...overrides,
  };
  return Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== undefined));
}

export function signJwt(claims: JWTPayload, secret = JWT_SECRET, alg = 'HS256'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(jwtKey(secret));
}

/** An unsigned token (`alg: none`), which no server should accept. */
export function unsignedJwt(claims: JWTPayload): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

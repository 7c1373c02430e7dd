// The credential a request presents, and what kind it is. Two headers carry one:
// `Authorization: Bearer <credential>`, and WapiKit's `x-access-token: <credential>`, kept
// for clients migrating from WapiKit. Either holds an API key or a JWT.
export type Credential = { kind: 'apiKey'; secret: string } | { kind: 'jwt'; token: string };

/**
 * Why a request is not authenticated. `message` is for the client and says no more than is
 * safe; `reason` is for the server's logs only.
 */
export class AuthenticationError extends Error {
  override name = 'AuthenticationError';
  constructor(
    message: string,
    readonly reason: string = message,
    /** False when the request carried no credential at all: nothing was refused, nothing looked up. */
    readonly credentialPresented = true,
  ) {
    super(message);
  }
}

// A compact JWS is three base64url segments (RFC 7515 §7.1); the last is empty for
// `alg: none`, which is still a JWT (and refused as one). API keys never contain a dot
// (src/auth/api-keys.ts; DEMO_API_KEY is checked in src/config.ts).
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export function isJwt(token: string): boolean {
  return JWT.test(token);
}

/** `Bearer <token>` → token; anything else → undefined. */
export function bearerToken(authorization: string | null): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

/** WapiKit sends the bare credential; a `Bearer ` prefix is tolerated. */
function accessToken(header: string | null): string | undefined {
  const match = /^\s*(?:Bearer\s+)?(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

export const CREDENTIAL_REQUIRED = 'Authentication required: send `Authorization: Bearer <api key or JWT>`.';

/** The request's credential; throws an AuthenticationError when there is none, or two that differ. */
export function credentialOf(headers: Headers): Credential {
  const bearer = bearerToken(headers.get('authorization'));
  const wapikit = accessToken(headers.get('x-access-token'));
  if (bearer && wapikit && bearer !== wapikit) {
    throw new AuthenticationError('Send one credential: the `Authorization` and `x-access-token` headers differ.');
  }
  const token = bearer ?? wapikit;
  if (!token) throw new AuthenticationError(CREDENTIAL_REQUIRED, CREDENTIAL_REQUIRED, false);
  return isJwt(token) ? { kind: 'jwt', token } : { kind: 'apiKey', secret: token };
}

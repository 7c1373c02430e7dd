// The address a request comes from, for throttling failed authentication per client.
//
// Without proxies (TRUST_PROXY unset, 0 or false) it is the socket's remote address and
// X-Forwarded-For is ignored: anyone can write that header. With TRUST_PROXY=n, the last n
// hops are taken to be the operator's own proxies, each of which appends the address it
// received the request from: the client is the n-th address from the right of
// [...X-Forwarded-For, socket address] (`true` is 1). Entries further left were written by
// the client and are never believed. A request with fewer hops than that (one that reached
// the server around its proxies) is attributed to the leftmost address it has.
import { isIPv4, isIPv6 } from 'node:net';

/** The socket's remote address, from Node's server context (http.createServer(yoga)). */
export function socketAddress(serverContext: unknown): string | undefined {
  const req = (serverContext as { req?: { socket?: { remoteAddress?: string } } } | undefined)?.req;
  return req?.socket?.remoteAddress;
}

export function clientAddress(
  socket: string | undefined,
  headers: Headers,
  trustedProxies: number,
): string | undefined {
  if (trustedProxies === 0) return socket && addressKey(socket);
  const forwarded = (headers.get('x-forwarded-for') ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const hops = socket ? [...forwarded, socket] : forwarded;
  const hop = hops[Math.max(0, hops.length - 1 - trustedProxies)];
  return hop === undefined ? undefined : addressKey(hop);
}

/**
 * The key an address is counted under: an IPv4 address (also written IPv4-mapped, or with
 * a port), or the /64 network of an IPv6 address, since one host commonly holds a whole
 * /64 and could otherwise count afresh under each of its addresses. Anything else as is.
 */
export function addressKey(address: string): string {
  let value = address.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value)?.[1];
  if (bracketed) value = bracketed;
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(value)) value = value.slice(0, value.lastIndexOf(':'));
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(value)?.[1];
  if (mapped) value = mapped;
  if (isIPv4(value)) return value;
  if (!isIPv6(value)) return value.slice(0, 100);
  const [head = '', tail = ''] = value.toLowerCase().split('::') as [string, string?];
  const left = head ? head.split(':') : [];
  const right = value.includes('::') && tail ? tail.split(':') : [];
  const groups = value.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

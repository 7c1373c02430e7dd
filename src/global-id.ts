// Opaque global ids ("<Type>:<uuid>", base64, as Pothos' relay plugin encodes them) and
// the one safe way to read them: a malformed id, or an id of another type, is simply not
// an id of the type asked for. Whether it exists (in this organization) is for the caller
// to find out through the scoped client.
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface GlobalId {
  typename: string;
  id: string;
}

export function parseGlobalId(globalId: string): GlobalId | undefined {
  try {
    const { typename, id } = decodeGlobalID(globalId);
    return UUID.test(id) ? { typename, id: id.toLowerCase() } : undefined;
  } catch {
    return undefined;
  }
}

/** The raw id behind `globalId` if it is an id of `typename`. */
export function rawIdOf(typename: string, globalId: string): string | undefined {
  const parsed = parseGlobalId(globalId);
  return parsed?.typename === typename ? parsed.id : undefined;
}

/** The global id of the `typename` row whose raw id is `id`, as the relay plugin writes it. */
export function globalIdOf(typename: string, id: string): string {
  return encodeGlobalID(typename, id);
}

// Allow-list mode (PERSISTED_OPERATIONS): only the operations of a manifest run. A client
// names one by its hash, Apollo's way (`extensions.persistedQuery.sha256Hash`), or sends the
// exact document, which is accepted when its sha256 is in the manifest, so that clients
// that do not speak the persisted-query protocol can be allow-listed too.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { parse } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** sha256 (hex) of a document → the document. */
export type OperationManifest = ReadonlyMap<string, string>;

const SHA256 = /^[0-9a-f]{64}$/;

export function sha256(document: string): string {
  return createHash('sha256').update(document, 'utf8').digest('hex');
}

/** Reads and checks a manifest file; throws an Error whose message says what is wrong with it. */
export function readOperationManifest(file: string): OperationManifest {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the manifest: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`the manifest is not valid JSON: ${(error as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new Error('the manifest must be a JSON object of sha256 hash → GraphQL document');
  }
  const manifest = new Map<string, string>();
  for (const [hash, document] of Object.entries(json)) {
    if (typeof document !== 'string') throw new Error(`operation ${hash}: the document must be a string`);
    if (!SHA256.test(hash))
      throw new Error(`operation ${hash}: the key must be the document's sha256 (64 lower-case hex digits)`);
    // A hash that does not match its document means the manifest was edited by hand or is
    // stale: better to stop at start-up than to run something other than what was reviewed.
    if (sha256(document) !== hash) throw new Error(`operation ${hash}: the key is not the sha256 of its document`);
    try {
      parse(document);
    } catch (error) {
      throw new Error(`operation ${hash}: ${(error as Error).message}`);
    }
    manifest.set(hash, document);
  }
  if (manifest.size === 0) throw new Error('the manifest lists no operations');
  return manifest;
}

function refusal(message: string, code: string) {
  return { message, extensions: { code, http: { status: 400 } } };
}

export function useOperationAllowList(manifest: OperationManifest): Plugin[] {
  return [
    {
      // A full document that is in the manifest is turned into a reference to it.
      onParams({ params, setParams }) {
        if (typeof params.query !== 'string') return;
        const hash = sha256(params.query);
        if (!manifest.has(hash)) return;
        const { query: _document, ...rest } = params;
        setParams({ ...rest, extensions: { ...params.extensions, persistedQuery: { version: 1, sha256Hash: hash } } });
      },
    },
    usePersistedOperations({
      getPersistedOperation: (hash) => manifest.get(hash) ?? null,
      allowArbitraryOperations: false,
      customErrors: {
        notFound: refusal(
          'Unknown persisted operation: no operation with this sha256Hash is in the allow-list.',
          'PERSISTED_QUERY_NOT_IN_LIST',
        ),
        persistedQueryOnly: refusal(
          'This server runs only the operations of its allow-list, and this document is not one of them: send ' +
            '`extensions.persistedQuery.sha256Hash` of a listed operation, or its exact document.',
          'PERSISTED_QUERY_NOT_IN_LIST',
        ),
        keyNotFound: refusal(
          'No operation: send `extensions.persistedQuery.sha256Hash` of a listed operation, or its exact document.',
          'PERSISTED_QUERY_ID_REQUIRED',
        ),
      },
    }),
  ];
}

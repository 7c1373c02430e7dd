// Yoga's parse cache, bounded by memory instead of by entries.
//
// Yoga keeps the parsed document of the last 1,024 distinct documents, keyed by their text,
// and a parse error for each document that failed. A parsed document holds its text, and,
// because Yoga parses with locations (validation errors point at a line and column), every
// token of it as an object: about 500 bytes per token, 90 per comment. Bounded in entries
// only, 1,024 documents of 2,000 tokens are half a gigabyte, and 1,024 documents that carry
// a comment of nearly a megabyte (which costs no token) a gigabyte: one member crashed the
// process that way. Here both caches are bounded by an estimate of the bytes they hold, and a
// document whose estimate is over `maxEntryBytes` is never cached (it is parsed again when it
// comes again, which MAX_DOCUMENT_BYTES and MAX_TOKENS keep cheap).
//
// Validation results need no bound of their own: Yoga keeps them in a WeakMap keyed by the
// parsed document, so they go when the document leaves this cache.
import type { DocumentNode } from 'graphql';
import { TokenKind } from 'graphql';
import { LRUCache } from 'lru-cache';

export interface DocumentCacheOptions {
  /** All cached documents together (estimated heap bytes). */
  maxBytes: number;
  /** A document estimated above this is not cached. */
  maxEntryBytes: number;
}

// Measured on Node 20 with graphql 16 (heap growth per parsed document, its text aside):
// 480–520 bytes per token of fields and arguments, about 90 per comment token, and up to two
// bytes per character of the text for the copies of comment and string values.
const TOKEN_BYTES = 550;
const COMMENT_BYTES = 100;
const ERROR_BYTES = 2_048;

export const DEFAULT_DOCUMENT_CACHE: DocumentCacheOptions = {
  maxBytes: 32 * 1024 * 1024,
  maxEntryBytes: 2 * 1024 * 1024,
};

/** Estimated heap bytes of a parsed document (with locations) and of its text, the cache key. */
export function documentBytes(document: DocumentNode, text: string): number {
  let bytes = 4 * text.length;
  for (let token = document.loc?.startToken ?? null; token !== null; token = token.next) {
    bytes += token.kind === TokenKind.COMMENT ? COMMENT_BYTES : TOKEN_BYTES;
  }
  return bytes;
}

export interface DocumentCache {
  /** For Yoga's `parserAndValidationCache` option. */
  documentCache: LRUCache<string, DocumentNode>;
  errorCache: LRUCache<string, object>;
  /** Estimated heap bytes held by both caches. */
  readonly bytes: number;
}

export function createDocumentCache(options: DocumentCacheOptions = DEFAULT_DOCUMENT_CACHE): DocumentCache {
  const documentCache = new LRUCache<string, DocumentNode>({
    max: 1_024,
    maxSize: options.maxBytes,
    maxEntrySize: options.maxEntryBytes,
    sizeCalculation: (document, text) => documentBytes(document, text),
  });
  // A parse error keeps the document's text (its `source`), not the tokens read before it.
  const errorCache = new LRUCache<string, object>({
    max: 1_024,
    maxSize: options.maxBytes / 8,
    maxEntrySize: options.maxEntryBytes,
    sizeCalculation: (_error, text) => 4 * text.length + ERROR_BYTES,
  });
  return {
    documentCache,
    errorCache,
    get bytes() {
      return documentCache.calculatedSize + errorCache.calculatedSize;
    },
  };
}

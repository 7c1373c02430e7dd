// Every statement of a request's execution runs inside the request's ConnectionShare (see
// src/db/connection-share.ts): the loaders' SQL takes its place explicitly, and Prisma's statements
// find the share through AsyncLocalStorage, entered here around the execute phase.
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { withConnectionShare } from '../db/connection-share.js';

export function useConnectionShare(): Plugin<Context> {
  return {
    instrumentation: {
      execute: ({ context }, wrapped) =>
        context.connections ? withConnectionShare(context.connections, wrapped) : wrapped(),
    },
  };
}

/** Without a configuration (tests, embedding): a quarter of the default pool of 10, rounded down. */
export const DEFAULT_MAX_CONNECTIONS_PER_REQUEST = 2;

// Admission control: at most `max` GraphQL requests execute at once, at most
// `maxPerOrganization` of them from one organization; the others wait, and take turns one
// organization after the other (src/admission/fair-queue.ts), so that a noisy organization
// queues behind its own requests and not in front of everyone else's. The database pool
// serves only so many statements at a time anyway: letting every connection's request run
// at once only piles up half-finished requests in memory (at 64 connections, hundreds of MB)
// and makes every one of them slower.
//
// A request asks for its slot only once its body has been read, its credential accepted and
// its rate limit passed: the slot is taken around Yoga's params handler (parse, validate,
// execute), which runs after every onParams hook. A slow or anonymous client therefore holds
// a socket, never a slot. The slot is given back when execution ends, however it ends; a
// request whose client goes away while it waits leaves the queue.
//
// Past `maxWaitingPerOrganization` waiting requests of one organization (or `maxWaiting` in
// all), new ones get 503 and Retry-After.
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { createFairQueue, QueueFullError } from '../admission/fair-queue.js';
import { viewerOf } from './authentication.js';

export interface ConcurrencyLimit {
  max: number;
  maxPerOrganization: number;
  maxWaiting: number;
  maxWaitingPerOrganization: number;
}

/** Waiting requests allowed per slot, in all and per organization. */
export const WAITING_PER_SLOT = 50;

/** The limits for `max` slots in all and `maxPerOrganization` per organization. */
export function concurrencyLimit(max: number, maxPerOrganization: number): ConcurrencyLimit {
  return {
    max,
    maxPerOrganization,
    maxWaiting: WAITING_PER_SLOT * max,
    maxWaitingPerOrganization: WAITING_PER_SLOT * maxPerOrganization,
  };
}

const busy = () =>
  new GraphQLError('The server is busy: retry in a moment.', {
    extensions: { code: 'SERVICE_UNAVAILABLE', http: { status: 503, headers: { 'Retry-After': '1' } } },
  });

// Nobody reads this answer (the client is gone); it only keeps the abort out of the
// "unexpected error" log.
const abandoned = () =>
  new GraphQLError('The request was abandoned by its client while it waited.', {
    extensions: { code: 'CLIENT_CLOSED_REQUEST', http: { status: 499 } },
  });

export function useConcurrencyLimit(limit: ConcurrencyLimit): Plugin {
  const queue = createFairQueue({
    max: limit.max,
    maxPerKey: limit.maxPerOrganization,
    maxWaiting: limit.maxWaiting,
    maxWaitingPerKey: limit.maxWaitingPerOrganization,
  });
  return {
    onParams({ request, paramsHandler, setParamsHandler }) {
      const { organizationId } = viewerOf(request);
      setParamsHandler(async (payload) => {
        let release;
        try {
          release = await queue.acquire(organizationId, request.signal);
        } catch (error) {
          throw error instanceof QueueFullError ? busy() : abandoned();
        }
        try {
          return await paramsHandler(payload);
        } finally {
          release();
        }
      });
    },
  };
}

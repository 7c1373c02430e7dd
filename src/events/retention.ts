// Retention of the change feed: events older than EVENT_RETENTION_DAYS are removed every
// hour, and each organization's counter remembers the last position removed, so that a
// client resuming from before it is told to refetch (EVENT_CURSOR_EXPIRED, ./feed.ts)
// rather than silently missing what was removed. Statuses that waited that long for a
// message that never appeared (src/whatsapp/process.ts) go with them.
import type { PrismaClient } from '../generated/prisma/client.js';
import type { ScheduledTask } from '../jobs/task.js';

const DAY_MS = 86_400_000;

/** How long events are kept by default (EVENT_RETENTION_DAYS): a week of catching up. */
export const DEFAULT_EVENT_RETENTION_DAYS = 7;

export function eventRetention(days: number): ScheduledTask {
  return {
    name: 'events.prune',
    schedule: '17 * * * *',
    async run({ db, log }) {
      const removed = await pruneEvents(db.prisma, new Date(Date.now() - days * DAY_MS));
      if (removed.events > 0 || removed.pendingStatuses > 0) log.info(removed, 'removed events past their retention');
    },
  };
}

type Prisma = PrismaClient;

/** Removes the events that occurred before `cutoff`, organization by organization. */
export async function pruneEvents(prisma: Prisma, cutoff: Date): Promise<{ events: number; pendingStatuses: number }> {
  const expired = await prisma.event.groupBy({
    by: ['organizationId'],
    where: { occurredAt: { lt: cutoff }, position: { not: null } },
    _max: { position: true },
  });
  let events = 0;
  for (const { organizationId, _max } of expired) {
    const through = _max.position;
    if (through === null) continue;
    // The counter first: from this moment a cursor before `through` is refused, even while
    // the rows are still being removed.
    await prisma.eventCounter.updateMany({
      where: { organizationId, prunedThrough: { lt: through } },
      data: { prunedThrough: through },
    });
    const { count } = await prisma.event.deleteMany({ where: { organizationId, position: { lte: through } } });
    events += count;
  }
  const { count: pendingStatuses } = await prisma.pendingStatus.deleteMany({ where: { createdAt: { lt: cutoff } } });
  return { events, pendingStatuses };
}

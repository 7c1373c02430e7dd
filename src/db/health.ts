// Whether the database answers: the readiness check (/readyz). Administration, outside
// requests: it names no organization.
import type { Database } from './database.js';

export async function ping(database: Database): Promise<void> {
  await database.prisma.$queryRaw`SELECT 1`;
}

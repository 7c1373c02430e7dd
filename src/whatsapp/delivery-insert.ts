// The webhook's usual store: a POST whose changes all belong to channels of one organization
// becomes its rows and their processing jobs in one statement (./deliveries.ts storeDelivery).
// One statement needs no BEGIN and COMMIT of its own and is atomic all the same: the rows
// exist exactly when their jobs do. A round trip instead of four, holding a pooled connection
// for that long, on the path whose answer Meta waits for.
import { randomUUID } from 'node:crypto';
import { Prisma } from '../generated/prisma/client.js';
import type { TenantSql } from '../db/tenant-sql.js';
import { InvalidJobPayloadError, jobSpecs } from '../jobs/enqueue.js';
import { processWebhookDelivery } from './process.js';

/** A RECEIVED row of the organization of `sql`. */
export interface ReceivedRow {
  channelId: string;
  body: string;
  bodyDigest: string;
}

/**
 * Inserts the rows (a body stored before for the same channel is skipped, `ON CONFLICT DO
 * NOTHING` on the channel and digest) and a processing job for each row inserted; returns the
 * ids inserted.
 */
export async function insertReceived(sql: TenantSql, rows: readonly ReceivedRow[]): Promise<string[]> {
  const ids = rows.map(() => randomUUID());
  for (const id of ids) {
    if (!processWebhookDelivery.payload.safeParse({ deliveryId: id }).success) {
      throw new InvalidJobPayloadError(`Invalid payload for ${processWebhookDelivery.name}`);
    }
  }
  const stored = await sql.query<{ id: string }>(
    (org) => Prisma.sql`
      WITH "stored" AS (
        INSERT INTO "WebhookDelivery" ("id", "organizationId", "channelId", "status", "body", "bodyDigest")
        SELECT d."id", ${org}, d."channelId", 'RECEIVED', d."body", d."bodyDigest"
        FROM unnest(
          ${ids}::uuid[],
          ${rows.map((row) => row.channelId)}::uuid[],
          ${rows.map((row) => row.body)}::text[],
          ${rows.map((row) => row.bodyDigest)}::text[]
        ) AS d("id", "channelId", "body", "bodyDigest")
        ON CONFLICT DO NOTHING
        RETURNING "id"
      ), "jobs" AS (
        SELECT count(*) AS "added"
        FROM graphile_worker.add_jobs(${jobSpecs(
          processWebhookDelivery,
          org,
          Prisma.sql`SELECT json_build_object('deliveryId', s."id") AS "payload" FROM "stored" s`,
        )})
        WHERE EXISTS (SELECT 1 FROM "stored")
      )
      SELECT s."id"::text AS "id" FROM "stored" s CROSS JOIN "jobs"`,
  );
  return stored.map((row) => row.id);
}

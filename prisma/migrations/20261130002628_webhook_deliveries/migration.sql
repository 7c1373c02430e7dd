-- CreateEnum
CREATE TYPE "WebhookDeliveryStatus" AS ENUM ('RECEIVED', 'PROCESSED', 'REJECTED', 'UNROUTED');

-- CreateTable
CREATE TABLE "WebhookDelivery" (
    "id" UUID NOT NULL,
    "organizationId" UUID,
    "channelId" UUID,
    "status" "WebhookDeliveryStatus" NOT NULL,
    "reason" TEXT,
    "body" TEXT NOT NULL,
    "bodyDigest" TEXT NOT NULL,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "WebhookDelivery_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "WebhookDelivery_organizationId_status_receivedAt_idx" ON "WebhookDelivery"("organizationId", "status", "receivedAt");

-- CreateIndex
CREATE INDEX "WebhookDelivery_status_receivedAt_idx" ON "WebhookDelivery"("status", "receivedAt");

-- CreateIndex
CREATE UNIQUE INDEX "WebhookDelivery_channelId_bodyDigest_key" ON "WebhookDelivery"("channelId", "bodyDigest");

-- CreateIndex
CREATE UNIQUE INDEX "WebhookDelivery_organizationId_id_key" ON "WebhookDelivery"("organizationId", "id");

-- AddForeignKey
ALTER TABLE "WebhookDelivery" ADD CONSTRAINT "WebhookDelivery_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WebhookDelivery" ADD CONSTRAINT "WebhookDelivery_channelId_fkey" FOREIGN KEY ("channelId") REFERENCES "WhatsAppChannel"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Hand-written (as in 20261121012500_tenant_optional_relations): a delivery's channel is an
-- optional relation, so Prisma relates it by one column; this composite key makes the
-- database refuse a delivery of one organization linked to another's channel, and on delete
-- of the channel nulls only the link column. (A composite key is not checked while a column
-- is NULL: the CHECK below keeps a channel from being named without its organization.)
ALTER TABLE "WebhookDelivery" ADD CONSTRAINT "WebhookDelivery_organizationId_channelId_tenant_fkey"
  FOREIGN KEY ("organizationId", "channelId") REFERENCES "WhatsAppChannel"("organizationId", "id")
  ON DELETE SET NULL ("channelId") ON UPDATE CASCADE;

ALTER TABLE "WebhookDelivery" ADD CONSTRAINT "WebhookDelivery_channel_has_organization"
  CHECK ("channelId" IS NULL OR "organizationId" IS NOT NULL);

-- Only what was routed to a channel belongs to an organization and awaits processing.
ALTER TABLE "WebhookDelivery" ADD CONSTRAINT "WebhookDelivery_routed_has_organization"
  CHECK (("status" IN ('UNROUTED', 'REJECTED')) OR "organizationId" IS NOT NULL);

-- Replays of deliveries that no channel took (no channelId, so the unique key above never
-- matches them) are found by their digest too: one row per body and status.
CREATE UNIQUE INDEX "WebhookDelivery_unrouted_bodyDigest_key" ON "WebhookDelivery"("bodyDigest", "status")
  WHERE "channelId" IS NULL AND "organizationId" IS NULL;

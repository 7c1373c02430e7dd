-- CreateEnum
CREATE TYPE "WhatsAppChannelStatus" AS ENUM ('CONNECTED', 'DISCONNECTED');

-- AlterTable
ALTER TABLE "Conversation" ADD COLUMN     "channelId" UUID;

-- CreateTable
CREATE TABLE "WhatsAppChannel" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "phoneNumberId" TEXT NOT NULL,
    "businessAccountId" TEXT NOT NULL,
    "displayPhoneNumber" TEXT NOT NULL,
    "status" "WhatsAppChannelStatus" NOT NULL DEFAULT 'CONNECTED',
    "accessTokenSealed" TEXT,
    "accessTokenFingerprint" TEXT,
    "appSecretSealed" TEXT NOT NULL,
    "appSecretFingerprint" TEXT NOT NULL,
    "verifyTokenSealed" TEXT NOT NULL,
    "verifyTokenFingerprint" TEXT NOT NULL,
    "verifyTokenDigest" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "WhatsAppChannel_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "WhatsAppChannel_phoneNumberId_key" ON "WhatsAppChannel"("phoneNumberId");

-- CreateIndex
CREATE INDEX "WhatsAppChannel_organizationId_createdAt_id_idx" ON "WhatsAppChannel"("organizationId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "WhatsAppChannel_verifyTokenDigest_idx" ON "WhatsAppChannel"("verifyTokenDigest");

-- CreateIndex
CREATE UNIQUE INDEX "WhatsAppChannel_organizationId_id_key" ON "WhatsAppChannel"("organizationId", "id");

-- CreateIndex
CREATE INDEX "Conversation_channelId_idx" ON "Conversation"("channelId");

-- AddForeignKey
ALTER TABLE "Conversation" ADD CONSTRAINT "Conversation_channelId_fkey" FOREIGN KEY ("channelId") REFERENCES "WhatsAppChannel"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WhatsAppChannel" ADD CONSTRAINT "WhatsAppChannel_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written (as in 20261121012500_tenant_optional_relations): a conversation's channel is
-- an optional relation, so Prisma relates it by one column; this composite key makes the
-- database refuse a link to another organization's channel, and on delete nulls only the
-- link column.
ALTER TABLE "Conversation" ADD CONSTRAINT "Conversation_organizationId_channelId_tenant_fkey"
  FOREIGN KEY ("organizationId", "channelId") REFERENCES "WhatsAppChannel"("organizationId", "id")
  ON DELETE SET NULL ("channelId") ON UPDATE CASCADE;

-- Processing of stored webhook deliveries (src/whatsapp/process.ts): the message types Meta
-- sends that the enum lacked, statuses on messages (deliveredAt, readAt, the error of a failed
-- one), what processing could not do with a delivery, and statuses kept until their message
-- appears.


ALTER TYPE "MessageType" ADD VALUE 'BUTTON';
ALTER TYPE "MessageType" ADD VALUE 'ORDER';
ALTER TYPE "MessageType" ADD VALUE 'SYSTEM';
ALTER TYPE "MessageType" ADD VALUE 'UNSUPPORTED';

-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "deliveredAt" TIMESTAMPTZ(3),
ADD COLUMN     "errorCode" INTEGER,
ADD COLUMN     "errorDetails" TEXT,
ADD COLUMN     "errorTitle" TEXT,
ADD COLUMN     "readAt" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "WebhookDelivery" ADD COLUMN     "problems" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN     "processedAt" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "PendingStatus" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "wamid" TEXT NOT NULL,
    "status" "MessageStatus" NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "errorCode" INTEGER,
    "errorTitle" TEXT,
    "errorDetails" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PendingStatus_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "PendingStatus_organizationId_wamid_status_at_key" ON "PendingStatus"("organizationId", "wamid", "status", "at");

-- AddForeignKey
ALTER TABLE "PendingStatus" ADD CONSTRAINT "PendingStatus_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

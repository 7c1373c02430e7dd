-- AlterTable
ALTER TABLE "WhatsAppChannel" ADD COLUMN     "messagesPerSecond" INTEGER;

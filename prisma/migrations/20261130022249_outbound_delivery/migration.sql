-- Outbound delivery (issue 14): sendMessage records a message PENDING and a job hands it to
-- WhatsApp; the member who sent it; the contact's last inbound message, from which WhatsApp's
-- 24-hour customer-service window runs.

-- AlterEnum (first in the order a message goes through; not used in this transaction, as
-- PostgreSQL requires of a value added in it)
ALTER TYPE "MessageStatus" ADD VALUE 'PENDING' BEFORE 'SENT';

-- AlterTable
ALTER TABLE "Conversation" ADD COLUMN     "lastInboundMessageAt" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "sendAttempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "sentById" UUID;

-- CreateIndex
CREATE INDEX "Message_sentById_idx" ON "Message"("sentById");

-- AddForeignKey
ALTER TABLE "Message" ADD CONSTRAINT "Message_sentById_fkey" FOREIGN KEY ("sentById") REFERENCES "OrganizationMember"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- The conversations that already have inbound messages.
UPDATE "Conversation" c SET "lastInboundMessageAt" = m.newest
FROM (
  SELECT "conversationId", max("createdAt") AS newest FROM "Message" WHERE "direction" = 'INBOUND' GROUP BY 1
) m
WHERE m."conversationId" = c."id";

-- lastInboundMessageAt follows the newest INBOUND message in the statement that counts it,
-- like lastMessageAt (migration 20261130020107_change_feed): only forward (GREATEST ignores
-- the NULL of a batch without inbound messages). The rest of the function is unchanged.
CREATE OR REPLACE FUNCTION "Conversation_count_messages"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  change RECORD;
BEGIN
  IF TG_OP = 'INSERT' THEN
    FOR change IN
      SELECT "conversationId" AS id, count(*)::int AS messages,
        count(*) FILTER (WHERE "direction" = 'INBOUND' AND "status" <> 'READ')::int AS unread,
        max("createdAt") AS newest,
        max("createdAt") FILTER (WHERE "direction" = 'INBOUND') AS newest_inbound
      FROM new_rows GROUP BY 1 ORDER BY 1
    LOOP
      UPDATE "Conversation"
      SET "messageCount" = "messageCount" + change.messages, "unreadMessageCount" = "unreadMessageCount" + change.unread,
        "lastMessageAt" = GREATEST("lastMessageAt", change.newest),
        "lastInboundMessageAt" = GREATEST("lastInboundMessageAt", change.newest_inbound)
      WHERE "id" = change.id;
    END LOOP;
  ELSIF TG_OP = 'DELETE' THEN
    FOR change IN
      SELECT "conversationId" AS id, count(*)::int AS messages,
        count(*) FILTER (WHERE "direction" = 'INBOUND' AND "status" <> 'READ')::int AS unread
      FROM old_rows GROUP BY 1 ORDER BY 1
    LOOP
      UPDATE "Conversation"
      SET "messageCount" = "messageCount" - change.messages, "unreadMessageCount" = "unreadMessageCount" - change.unread
      WHERE "id" = change.id;
    END LOOP;
  ELSE
    -- Most updates (a delivery receipt, a WhatsApp id) move no counter: only rows whose
    -- conversation or unread state changed leave a non-zero sum.
    FOR change IN
      SELECT id, sum(messages)::int AS messages, sum(unread)::int AS unread
      FROM (
        SELECT "conversationId" AS id, 1 AS messages,
          CASE WHEN "direction" = 'INBOUND' AND "status" <> 'READ' THEN 1 ELSE 0 END AS unread
        FROM new_rows
        UNION ALL
        SELECT "conversationId", -1, CASE WHEN "direction" = 'INBOUND' AND "status" <> 'READ' THEN -1 ELSE 0 END
        FROM old_rows
      ) moved
      GROUP BY id HAVING sum(messages) <> 0 OR sum(unread) <> 0 ORDER BY id
    LOOP
      UPDATE "Conversation"
      SET "messageCount" = "messageCount" + change.messages, "unreadMessageCount" = "unreadMessageCount" + change.unread
      WHERE "id" = change.id;
    END LOOP;
  END IF;
  RETURN NULL;
END
$$;

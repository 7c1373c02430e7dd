-- Hand-written: keep optional relations inside their organization too.
--
-- A conversation's campaign and assignee and a message's replyTo are optional, so Prisma
-- relates them by a single column (it cannot null half of a composite key). These
-- composite foreign keys, which Prisma does not know about, make the database refuse a
-- link to another organization's row all the same; on delete they null only the link
-- column (PostgreSQL 15+), never organizationId.
ALTER TABLE "Conversation" ADD CONSTRAINT "Conversation_organizationId_campaignId_tenant_fkey"
  FOREIGN KEY ("organizationId", "campaignId") REFERENCES "Campaign"("organizationId", "id")
  ON DELETE SET NULL ("campaignId") ON UPDATE CASCADE;
ALTER TABLE "Conversation" ADD CONSTRAINT "Conversation_organizationId_assignedToId_tenant_fkey"
  FOREIGN KEY ("organizationId", "assignedToId") REFERENCES "OrganizationMember"("organizationId", "id")
  ON DELETE SET NULL ("assignedToId") ON UPDATE CASCADE;
ALTER TABLE "Message" ADD CONSTRAINT "Message_organizationId_replyToId_tenant_fkey"
  FOREIGN KEY ("organizationId", "replyToId") REFERENCES "Message"("organizationId", "id")
  ON DELETE SET NULL ("replyToId") ON UPDATE CASCADE;

-- The change feed: every change a client shows becomes an "Event" row in the same
-- transaction as the change, written by the triggers below (so no write path can forget
-- one: mutations, inbound WhatsApp processing, jobs and administration alike).
--
-- Positions in commit order. An event is inserted without a position; when its transaction
-- commits, a deferred constraint trigger numbers the transaction's events from the
-- organization's "EventCounter" row, whose lock it then holds until the commit completes.
-- The next transaction of that organization can only take the lock, and so number its own
-- events, after this one is committed and visible: a reader that sees position p therefore
-- already sees every position below p, and no event can ever appear behind a position a
-- client has passed. (A sequence would not do: its numbers are taken in statement order and
-- transactions commit in another, which is exactly how a poller missed messages.) The lock
-- is the last one a transaction takes, so it cannot close a deadlock; it serialises only the
-- commits of one organization, never two organizations.
--
-- A chat needs the same guarantee for its messages, and gets it more cheaply: a message is
-- numbered within its conversation as it is inserted ("Message"."position", from
-- "Conversation"."messageSequence"), which locks the conversation's row until the transaction
-- commits — as the message counters always did, in the same statement. The next message of
-- that conversation can only be numbered after this one is committed, so a conversation's
-- messages commit in position order and paging a chat forward misses none.
--
-- The triggers run once per statement (transition tables): a 1,000-contact import inserts its
-- 1,000 events in one statement. Bulk loads that must not produce events (the benchmark's
-- dataset) run with triggers off (session_replication_role = replica) and number their
-- messages with "Message_assign_positions"() afterwards.
-- CreateEnum
CREATE TYPE "EventKind" AS ENUM ('MESSAGE_CREATED', 'MESSAGE_STATUS_CHANGED', 'CONVERSATION_CREATED', 'CONVERSATION_UPDATED', 'CONVERSATION_ASSIGNED', 'CONVERSATION_UNASSIGNED', 'CONVERSATION_STATUS_CHANGED', 'CONVERSATION_READ', 'CONVERSATION_TAGS_CHANGED', 'CONVERSATION_DELETED', 'CONTACT_CREATED', 'CONTACT_UPDATED', 'CONTACT_DELETED', 'CONTACT_LISTS_CHANGED', 'CONTACT_TAGS_CHANGED');

-- DropIndex
DROP INDEX "Message_conversationId_createdAt_id_idx";

-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "position" BIGINT;

-- CreateTable
CREATE TABLE "Event" (
    "id" BIGSERIAL NOT NULL,
    "organizationId" UUID NOT NULL,
    "position" BIGINT,
    "kind" "EventKind" NOT NULL,
    "subjectId" UUID NOT NULL,
    "conversationId" UUID,
    "contactId" UUID,
    "occurredAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "EventCounter" (
    "organizationId" UUID NOT NULL,
    "lastPosition" BIGINT NOT NULL DEFAULT 0,
    "prunedThrough" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "EventCounter_pkey" PRIMARY KEY ("organizationId")
);

-- CreateIndex
CREATE INDEX "Event_occurredAt_idx" ON "Event"("occurredAt");

-- CreateIndex
CREATE UNIQUE INDEX "Event_organizationId_position_key" ON "Event"("organizationId", "position");

-- CreateIndex
CREATE INDEX "Message_conversationId_position_id_idx" ON "Message"("conversationId", "position", "id");

-- The events of transactions not yet committed (the only ones without a position).
CREATE INDEX "Event_unpositioned_idx" ON "Event"("organizationId", "id") WHERE "position" IS NULL;
-- A chat's events (messageEvents, Query.events filtered by conversation).
CREATE INDEX "Event_conversation_idx" ON "Event"("organizationId", "conversationId", "position");

CREATE FUNCTION "Event_recording"() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT current_setting('wagraph.record_events', true) IS DISTINCT FROM 'off'
$$;

CREATE FUNCTION "Message_record_events"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT "Event_recording"() THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO "Event" ("organizationId", "kind", "subjectId", "conversationId")
    SELECT "organizationId", 'MESSAGE_CREATED', "id", "conversationId" FROM new_rows ORDER BY "createdAt", "id";
  ELSE
    -- A position, a WhatsApp id, a delivery time without a new status: nothing a client shows changed.
    INSERT INTO "Event" ("organizationId", "kind", "subjectId", "conversationId")
    SELECT n."organizationId", 'MESSAGE_STATUS_CHANGED', n."id", n."conversationId"
    FROM new_rows n JOIN old_rows o ON o."id" = n."id"
    WHERE n."status" <> o."status"
    ORDER BY n."id";
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "Message_events_insert" AFTER INSERT ON "Message"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "Message_record_events"();
CREATE TRIGGER "Message_events_update" AFTER UPDATE ON "Message"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "Message_record_events"();

CREATE FUNCTION "Conversation_record_events"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT "Event_recording"() THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO "Event" ("organizationId", "kind", "subjectId", "conversationId", "contactId")
    SELECT "organizationId", 'CONVERSATION_CREATED', "id", "id", "contactId" FROM new_rows ORDER BY "createdAt", "id";
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO "Event" ("organizationId", "kind", "subjectId", "conversationId", "contactId")
    SELECT "organizationId", 'CONVERSATION_DELETED', "id", "id", "contactId" FROM old_rows ORDER BY "id";
  ELSE
    -- The counters and lastMessageAt move with every message, whose MESSAGE_CREATED event
    -- says so already; only what a person changed is an event of its own.
    INSERT INTO "Event" ("organizationId", "kind", "subjectId", "conversationId", "contactId")
    SELECT n."organizationId", k."kind"::"EventKind", n."id", n."id", n."contactId"
    FROM new_rows n JOIN old_rows o ON o."id" = n."id"
    CROSS JOIN LATERAL (VALUES
      (1, CASE WHEN n."status" <> o."status" THEN 'CONVERSATION_STATUS_CHANGED' END),
      (2, CASE WHEN n."assignedToId" IS DISTINCT FROM o."assignedToId" THEN
            CASE WHEN n."assignedToId" IS NULL THEN 'CONVERSATION_UNASSIGNED' ELSE 'CONVERSATION_ASSIGNED' END END),
      (3, CASE WHEN o."unreadMessageCount" > 0 AND n."unreadMessageCount" = 0 THEN 'CONVERSATION_READ' END),
      (4, CASE WHEN (n."campaignId", n."channelId", n."contactId", n."initiatedBy")
                    IS DISTINCT FROM (o."campaignId", o."channelId", o."contactId", o."initiatedBy")
               THEN 'CONVERSATION_UPDATED' END)
    ) AS k("order", "kind")
    WHERE k."kind" IS NOT NULL
    ORDER BY n."id", k."order";
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "Conversation_events_insert" AFTER INSERT ON "Conversation"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "Conversation_record_events"();
CREATE TRIGGER "Conversation_events_update" AFTER UPDATE ON "Conversation"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "Conversation_record_events"();
CREATE TRIGGER "Conversation_events_delete" AFTER DELETE ON "Conversation"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "Conversation_record_events"();

CREATE FUNCTION "Contact_record_events"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT "Event_recording"() THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO "Event" ("organizationId", "kind", "subjectId", "contactId")
    SELECT "organizationId", 'CONTACT_CREATED', "id", "id" FROM new_rows ORDER BY "createdAt", "id";
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO "Event" ("organizationId", "kind", "subjectId", "contactId")
    SELECT "organizationId", 'CONTACT_DELETED', "id", "id" FROM old_rows ORDER BY "id";
  ELSE
    INSERT INTO "Event" ("organizationId", "kind", "subjectId", "contactId")
    SELECT n."organizationId", 'CONTACT_UPDATED', n."id", n."id"
    FROM new_rows n JOIN old_rows o ON o."id" = n."id"
    WHERE (to_jsonb(n) - 'updatedAt') IS DISTINCT FROM (to_jsonb(o) - 'updatedAt')
    ORDER BY n."id";
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "Contact_events_insert" AFTER INSERT ON "Contact"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "Contact_record_events"();
CREATE TRIGGER "Contact_events_update" AFTER UPDATE ON "Contact"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "Contact_record_events"();
CREATE TRIGGER "Contact_events_delete" AFTER DELETE ON "Contact"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "Contact_record_events"();

-- Links: one event per contact (or conversation) whose set changed, however many links moved.
-- plpgsql plans a statement when it first runs it, so each branch names only the transition
-- table its operation has.
CREATE FUNCTION "ContactListMembership_record_events"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT "Event_recording"() THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO "Event" ("organizationId", "kind", "subjectId", "contactId")
    SELECT DISTINCT "organizationId", 'CONTACT_LISTS_CHANGED'::"EventKind", "contactId", "contactId" FROM new_rows;
  ELSE
    INSERT INTO "Event" ("organizationId", "kind", "subjectId", "contactId")
    SELECT DISTINCT "organizationId", 'CONTACT_LISTS_CHANGED'::"EventKind", "contactId", "contactId" FROM old_rows;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "ContactListMembership_events_insert" AFTER INSERT ON "ContactListMembership"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "ContactListMembership_record_events"();
CREATE TRIGGER "ContactListMembership_events_delete" AFTER DELETE ON "ContactListMembership"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "ContactListMembership_record_events"();

CREATE FUNCTION "ContactTag_record_events"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT "Event_recording"() THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO "Event" ("organizationId", "kind", "subjectId", "contactId")
    SELECT DISTINCT "organizationId", 'CONTACT_TAGS_CHANGED'::"EventKind", "contactId", "contactId" FROM new_rows;
  ELSE
    INSERT INTO "Event" ("organizationId", "kind", "subjectId", "contactId")
    SELECT DISTINCT "organizationId", 'CONTACT_TAGS_CHANGED'::"EventKind", "contactId", "contactId" FROM old_rows;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "ContactTag_events_insert" AFTER INSERT ON "ContactTag"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "ContactTag_record_events"();
CREATE TRIGGER "ContactTag_events_delete" AFTER DELETE ON "ContactTag"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "ContactTag_record_events"();

CREATE FUNCTION "ConversationTag_record_events"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT "Event_recording"() THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO "Event" ("organizationId", "kind", "subjectId", "conversationId", "contactId")
    SELECT DISTINCT l."organizationId", 'CONVERSATION_TAGS_CHANGED'::"EventKind", l."conversationId", l."conversationId", c."contactId"
    FROM new_rows l LEFT JOIN "Conversation" c ON c."id" = l."conversationId";
  ELSE
    INSERT INTO "Event" ("organizationId", "kind", "subjectId", "conversationId", "contactId")
    SELECT DISTINCT l."organizationId", 'CONVERSATION_TAGS_CHANGED'::"EventKind", l."conversationId", l."conversationId", c."contactId"
    FROM old_rows l LEFT JOIN "Conversation" c ON c."id" = l."conversationId";
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "ConversationTag_events_insert" AFTER INSERT ON "ConversationTag"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "ConversationTag_record_events"();
CREATE TRIGGER "ConversationTag_events_delete" AFTER DELETE ON "ConversationTag"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "ConversationTag_record_events"();

-- At commit: number the transaction's events, organization by organization (in id order, so
-- that an administrative transaction touching several cannot deadlock with another).
-- Deferred constraint triggers fire per row; the first firing numbers every event of the
-- transaction and marks the transaction done, the others return at once.
CREATE FUNCTION "Event_assign_positions"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  organization RECORD;
  pending BIGINT;
  base BIGINT;
BEGIN
  IF current_setting('wagraph.events_positioned', true) = txid_current()::text THEN RETURN NULL; END IF;
  PERFORM set_config('wagraph.events_positioned', txid_current()::text, true);
  FOR organization IN SELECT DISTINCT "organizationId" AS id FROM "Event" WHERE "position" IS NULL ORDER BY 1 LOOP
    -- Several events of one subject in one transaction: a client needs the last of each kind,
    -- and after a deletion only the deletion.
    DELETE FROM "Event" e
    USING (
      SELECT "id" FROM (
        SELECT "id", "kind",
          row_number() OVER (PARTITION BY "subjectId", "kind" ORDER BY "id" DESC) AS "nth",
          bool_or("kind" IN ('CONTACT_DELETED', 'CONVERSATION_DELETED')) OVER (PARTITION BY "subjectId") AS "deleted"
        FROM "Event" WHERE "organizationId" = organization.id AND "position" IS NULL
      ) ranked
      WHERE "nth" > 1 OR ("deleted" AND "kind" NOT IN ('CONTACT_DELETED', 'CONVERSATION_DELETED'))
    ) doomed
    WHERE e."id" = doomed."id";
    SELECT count(*) INTO pending FROM "Event" WHERE "organizationId" = organization.id AND "position" IS NULL;
    INSERT INTO "EventCounter" AS c ("organizationId", "lastPosition") VALUES (organization.id, pending)
    ON CONFLICT ("organizationId") DO UPDATE SET "lastPosition" = c."lastPosition" + excluded."lastPosition"
    RETURNING c."lastPosition" - pending INTO base;
    UPDATE "Event" e SET "position" = numbered."position"
    FROM (
      SELECT "id", base + row_number() OVER (ORDER BY "id") AS "position"
      FROM "Event" WHERE "organizationId" = organization.id AND "position" IS NULL
    ) numbered
    WHERE e."id" = numbered."id";
  END LOOP;
  RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER "Event_positions" AFTER INSERT ON "Event"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "Event_assign_positions"();

-- Numbering messages as they are inserted, within their conversation (see the header).
ALTER TABLE "Conversation" ADD COLUMN "messageSequence" BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION "Message_number"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "Conversation" SET "messageSequence" = "messageSequence" + 1
  WHERE "id" = NEW."conversationId"
  RETURNING "messageSequence" INTO NEW."position";
  RETURN NEW;
END
$$;

CREATE TRIGGER "Message_number" BEFORE INSERT ON "Message" FOR EACH ROW EXECUTE FUNCTION "Message_number"();

-- Messages inserted with triggers off (the rows that exist now; a bulk load): numbered after
-- what their conversation has, in the order they were created.
CREATE FUNCTION "Message_assign_positions"() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "Message" m SET "position" = numbered."position"
  FROM (
    SELECT m."id", c."messageSequence" + row_number() OVER (PARTITION BY m."conversationId" ORDER BY m."createdAt", m."id") AS "position"
    FROM "Message" m JOIN "Conversation" c ON c."id" = m."conversationId"
    WHERE m."position" IS NULL
  ) numbered
  WHERE m."id" = numbered."id";
  UPDATE "Conversation" c SET "messageSequence" = m."last"
  FROM (SELECT "conversationId", max("position") AS "last" FROM "Message" GROUP BY 1) m
  WHERE c."id" = m."conversationId" AND m."last" > c."messageSequence";
END
$$;

SELECT "Message_assign_positions"();

-- lastMessageAt follows the newest message in the same statement that counts it, under the
-- conversation's row lock: it only moves forward, whatever order concurrent senders commit in
-- (it used to be set by each sender, and the last to commit won even when its message was older).
CREATE OR REPLACE FUNCTION "Conversation_count_messages"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  change RECORD;
BEGIN
  IF TG_OP = 'INSERT' THEN
    FOR change IN
      SELECT "conversationId" AS id, count(*)::int AS messages,
        count(*) FILTER (WHERE "direction" = 'INBOUND' AND "status" <> 'READ')::int AS unread,
        max("createdAt") AS newest
      FROM new_rows GROUP BY 1 ORDER BY 1
    LOOP
      UPDATE "Conversation"
      SET "messageCount" = "messageCount" + change.messages, "unreadMessageCount" = "unreadMessageCount" + change.unread,
        "lastMessageAt" = GREATEST("lastMessageAt", change.newest)
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

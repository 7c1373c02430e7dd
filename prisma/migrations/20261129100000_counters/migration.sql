-- Counters for the counts every inbox and contact table shows: the members of a list, the
-- messages and unread messages of a conversation. They are kept by triggers in the same
-- transaction as the rows they count, so that reading them costs one row, not a scan.
--
-- Exact under concurrent writers: `SET n = n + delta` takes the parent row's lock and, under
-- READ COMMITTED, re-reads the newest committed value before adding to it. The triggers run
-- once per statement (transition tables), so a 1,000-row insert updates each parent once;
-- parents are updated in id order, so two statements touching the same parents cannot
-- deadlock on them. Cascaded deletes fire the triggers too (a parent being deleted in the
-- same statement is simply no longer there to update).
--
-- "Unread" is what it has always been: an INBOUND message whose status is not READ (the
-- partial index "Message_unread_idx"). markConversationRead, like any status change, is an
-- UPDATE of Message, which moves the counter.

ALTER TABLE "ContactList" ADD COLUMN "contactCount" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "Conversation" ADD COLUMN "messageCount" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN "unreadMessageCount" INTEGER NOT NULL DEFAULT 0;

CREATE FUNCTION "ContactList_count_members"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  change RECORD;
BEGIN
  -- plpgsql plans a statement when it first runs it, so each branch may name only the
  -- transition tables its operation has.
  IF TG_OP = 'INSERT' THEN
    FOR change IN SELECT "listId" AS id, count(*)::int AS delta FROM new_rows GROUP BY 1 ORDER BY 1 LOOP
      UPDATE "ContactList" SET "contactCount" = "contactCount" + change.delta WHERE "id" = change.id;
    END LOOP;
  ELSIF TG_OP = 'DELETE' THEN
    FOR change IN SELECT "listId" AS id, count(*)::int AS delta FROM old_rows GROUP BY 1 ORDER BY 1 LOOP
      UPDATE "ContactList" SET "contactCount" = "contactCount" - change.delta WHERE "id" = change.id;
    END LOOP;
  ELSE
    FOR change IN
      SELECT id, sum(delta)::int AS delta
      FROM (SELECT "listId" AS id, 1 AS delta FROM new_rows UNION ALL SELECT "listId", -1 FROM old_rows) moved
      GROUP BY id HAVING sum(delta) <> 0 ORDER BY id
    LOOP
      UPDATE "ContactList" SET "contactCount" = "contactCount" + change.delta WHERE "id" = change.id;
    END LOOP;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "ContactListMembership_count_insert" AFTER INSERT ON "ContactListMembership"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "ContactList_count_members"();
CREATE TRIGGER "ContactListMembership_count_delete" AFTER DELETE ON "ContactListMembership"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "ContactList_count_members"();
CREATE TRIGGER "ContactListMembership_count_update" AFTER UPDATE ON "ContactListMembership"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "ContactList_count_members"();

CREATE FUNCTION "Conversation_count_messages"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  change RECORD;
BEGIN
  IF TG_OP = 'INSERT' THEN
    FOR change IN
      SELECT "conversationId" AS id, count(*)::int AS messages,
        count(*) FILTER (WHERE "direction" = 'INBOUND' AND "status" <> 'READ')::int AS unread
      FROM new_rows GROUP BY 1 ORDER BY 1
    LOOP
      UPDATE "Conversation"
      SET "messageCount" = "messageCount" + change.messages, "unreadMessageCount" = "unreadMessageCount" + change.unread
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

CREATE TRIGGER "Message_count_insert" AFTER INSERT ON "Message"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "Conversation_count_messages"();
CREATE TRIGGER "Message_count_delete" AFTER DELETE ON "Message"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "Conversation_count_messages"();
CREATE TRIGGER "Message_count_update" AFTER UPDATE ON "Message"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "Conversation_count_messages"();

-- The rows that exist already. The triggers above hold their tables' write lock until this
-- migration commits, so no write can slip between the backfill and the first trigger run.
UPDATE "ContactList" l SET "contactCount" = m.n
FROM (SELECT "listId", count(*)::int AS n FROM "ContactListMembership" GROUP BY 1) m
WHERE l."id" = m."listId";

UPDATE "Conversation" c SET "messageCount" = m.n, "unreadMessageCount" = m.unread
FROM (
  SELECT "conversationId", count(*)::int AS n,
    count(*) FILTER (WHERE "direction" = 'INBOUND' AND "status" <> 'READ')::int AS unread
  FROM "Message" GROUP BY 1
) m
WHERE c."id" = m."conversationId";

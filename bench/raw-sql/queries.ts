// The raw-SQL floor: each operation as one hand-written statement that PostgreSQL answers
// with the response's JSON already built (json_build_object / json_agg), so Node only
// passes text through. Nested pages are LATERAL subqueries with their own ORDER BY …
// LIMIT, counts are index-only counts, and the lists' member counts are one grouped count
// over the distinct lists of the page. Tenant scoping: the top-level rows are filtered by
// organization; everything nested is reached through them.
//
// The shapes mirror wagraph's responses (`data.<field>`), so the same checks apply.

/** Message text as wagraph derives it: the "text" of a TEXT message. */
const TEXT = (alias: string) => `CASE WHEN ${alias}."messageType" = 'TEXT' THEN ${alias}."messageData"->>'text' END`;

/** $1 organization id. */
export const INBOX = `
SELECT json_build_object('conversations', json_build_object(
  'totalCount', (SELECT count(*) FROM "Conversation" WHERE "organizationId" = $1 AND status = 'ACTIVE'),
  'nodes', coalesce((
    SELECT json_agg(json_build_object(
      'contact', json_build_object('name', ct.name, 'phone', ct.phone, 'tags', json_build_object('nodes', (
        SELECT coalesce(json_agg(json_build_object('label', t.label) ORDER BY t."createdAt", t.id), '[]')
        FROM (SELECT t.* FROM "ContactTag" x JOIN "Tag" t ON t.id = x."tagId"
              WHERE x."contactId" = ct.id ORDER BY t."createdAt", t.id LIMIT 20) t))),
      'assignedTo', (SELECT json_build_object('name', m.name) FROM "OrganizationMember" m WHERE m.id = c."assignedToId"),
      'numberOfUnreadMessages', (SELECT count(*) FROM "Message" u
                                 WHERE u."conversationId" = c.id AND u.direction = 'INBOUND' AND u.status <> 'READ'),
      'totalMessages', (SELECT count(*) FROM "Message" a WHERE a."conversationId" = c.id),
      'messages', json_build_object('nodes', (
        SELECT json_agg(json_build_object('text', ${TEXT('m')}, 'direction', m.direction, 'status', m.status,
                                          'createdAt', m."createdAt") ORDER BY m."createdAt", m.id)
        FROM (SELECT * FROM "Message" m WHERE m."conversationId" = c.id ORDER BY m."createdAt" DESC, m.id DESC LIMIT 10) m))
    ) ORDER BY c."lastMessageAt" DESC NULLS LAST, c.id DESC)
    FROM (SELECT * FROM "Conversation" WHERE "organizationId" = $1 AND status = 'ACTIVE'
          ORDER BY "lastMessageAt" DESC NULLS LAST, id DESC LIMIT 50) c
    JOIN "Contact" ct ON ct.id = c."contactId"), '[]')
)) AS data`;

/** $1 organization id, $2 ILIKE pattern for the name, $3 LIKE pattern for the phone (or NULL). */
export const CONTACT_TABLE = `
WITH matches AS MATERIALIZED (
  SELECT id, name, phone, "createdAt" FROM "Contact"
  WHERE "organizationId" = $1 AND (name ILIKE $2 OR phone LIKE $3)
),
page AS (SELECT * FROM matches ORDER BY "createdAt", id LIMIT 50),
page_lists AS (
  SELECT p.id AS contact_id, l.id, l.name, l."createdAt"
  FROM page p CROSS JOIN LATERAL (
    SELECT l.id, l.name, l."createdAt" FROM "ContactListMembership" m JOIN "ContactList" l ON l.id = m."listId"
    WHERE m."contactId" = p.id ORDER BY l."createdAt", l.id LIMIT 20) l
),
list_sizes AS (
  SELECT "listId", count(*) AS n FROM "ContactListMembership"
  WHERE "listId" IN (SELECT DISTINCT id FROM page_lists) GROUP BY "listId"
)
SELECT json_build_object('contacts', json_build_object(
  'totalCount', (SELECT count(*) FROM matches),
  'nodes', coalesce((
    SELECT json_agg(json_build_object(
      'name', p.name, 'phone', p.phone,
      'lists', json_build_object('nodes', (
        SELECT coalesce(json_agg(json_build_object('name', pl.name, 'numberOfContacts', s.n) ORDER BY pl."createdAt", pl.id), '[]')
        FROM page_lists pl JOIN list_sizes s ON s."listId" = pl.id WHERE pl.contact_id = p.id)),
      'tags', json_build_object('nodes', (
        SELECT coalesce(json_agg(json_build_object('label', t.label) ORDER BY t."createdAt", t.id), '[]')
        FROM (SELECT t.* FROM "ContactTag" x JOIN "Tag" t ON t.id = x."tagId"
              WHERE x."contactId" = p.id ORDER BY t."createdAt", t.id LIMIT 20) t)),
      'conversations', json_build_object('totalCount', (SELECT count(*) FROM "Conversation" c WHERE c."contactId" = p.id))
    ) ORDER BY p."createdAt", p.id)
    FROM page p), '[]')
)) AS data`;

/**
 * $1 organization id, then one uuid[] per type in NODE_TYPES order. Rows come back by
 * type; the server puts them in the order asked.
 */
export const NODE_TYPES = {
  Organization: `SELECT 'Organization' AS type, id, json_build_object('id', id, 'name', name) AS node
                 FROM "Organization" WHERE id = $1 AND id = ANY($PARAM::uuid[])`,
  OrganizationMember: `SELECT 'OrganizationMember', id, json_build_object('id', id, 'name', name, 'email', email)
                       FROM "OrganizationMember" WHERE "organizationId" = $1 AND id = ANY($PARAM::uuid[])`,
  Contact: `SELECT 'Contact', id, json_build_object('id', id, 'name', name, 'phone', phone)
            FROM "Contact" WHERE "organizationId" = $1 AND id = ANY($PARAM::uuid[])`,
  List: `SELECT 'List', id, json_build_object('id', id, 'name', name)
         FROM "ContactList" WHERE "organizationId" = $1 AND id = ANY($PARAM::uuid[])`,
  Tag: `SELECT 'Tag', id, json_build_object('id', id, 'label', label)
        FROM "Tag" WHERE "organizationId" = $1 AND id = ANY($PARAM::uuid[])`,
  Campaign: `SELECT 'Campaign', id, json_build_object('id', id, 'name', name, 'campaignStatus', status)
             FROM "Campaign" WHERE "organizationId" = $1 AND id = ANY($PARAM::uuid[])`,
  Conversation: `SELECT 'Conversation', id, json_build_object('id', id, 'conversationStatus', status, 'lastMessageAt', "lastMessageAt")
                 FROM "Conversation" WHERE "organizationId" = $1 AND id = ANY($PARAM::uuid[])`,
  Message: `SELECT 'Message', id, json_build_object('id', id, 'text', ${TEXT('"Message"')}, 'direction', direction, 'createdAt', "createdAt")
            FROM "Message" WHERE "organizationId" = $1 AND id = ANY($PARAM::uuid[])`,
} as const;

export type NodeType = keyof typeof NODE_TYPES;

export const NODES = Object.values(NODE_TYPES)
  .map((select, index) => select.replaceAll('$PARAM', `$${index + 2}`))
  .join('\nUNION ALL\n');

/** $1 organization id, $2 contact id. */
export const CHAT = `
SELECT json_build_object('node', (
  SELECT json_build_object('name', ct.name, 'conversations', json_build_object('nodes', coalesce((
    SELECT json_agg(json_build_object('id', c.id, 'status', c.status, 'messages', json_build_object('nodes', (
      SELECT json_agg(json_build_object(
        'id', m.id, 'text', ${TEXT('m')}, 'direction', m.direction, 'status', m.status, 'createdAt', m."createdAt",
        'replyTo', (SELECT json_build_object('id', r.id, 'text', ${TEXT('r')}) FROM "Message" r WHERE r.id = m."replyToId")
      ) ORDER BY m."createdAt", m.id)
      FROM (SELECT * FROM "Message" m WHERE m."conversationId" = c.id ORDER BY m."createdAt" DESC, m.id DESC LIMIT 20) m))
    ) ORDER BY c."createdAt", c.id)
    FROM (SELECT * FROM "Conversation" c WHERE c."contactId" = ct.id ORDER BY c."createdAt", c.id LIMIT 5) c), '[]')))
  FROM "Contact" ct WHERE ct."organizationId" = $1 AND ct.id = $2
)) AS data`;

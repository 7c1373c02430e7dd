// The dataset, as SQL that PostgreSQL runs on its own: every row comes from
// `INSERT … SELECT … FROM generate_series(…)`, so nothing is shipped from Node and a
// million messages take seconds. Every value is a pure function of (organization, row
// number): ids are md5 of a name, "random" choices come from `hashint8extended`, the hash
// function of PostgreSQL's own hash indexes (which must stay stable across versions for
// those indexes to survive upgrades). Two runs at the same scale produce identical rows.
//
// Everything the generator needs besides wagraph's tables lives in the `bench` schema:
// the plan it was asked for, a per-conversation plan, the helper functions, and the
// fixture the benchmark reads (ids, the API key).

import * as sample from '../src/db/sample-data.js';

/** The instant the dataset "is" at: the newest messages are a little before it. */
const NOW = `timestamptz '2026-06-01 00:00:00+00'`;

function textArray(items: readonly string[]): string {
  return `ARRAY[${items.map((item) => `'${item.replaceAll("'", "''")}'`).join(', ')}]::text[]`;
}

const FIRST_NAMES = textArray(sample.FIRST_NAMES);
const LAST_NAMES = textArray(sample.LAST_NAMES);
/** E.164 country codes; every contact gets 9 national digits after one (see `contacts`). */
const COUNTRY_CODES = textArray(['1', '44', '49', '55', '91', '52', '34', '234', '27', '62']);
const CITIES = textArray(sample.CITIES);
const LANGUAGES = textArray(sample.LANGUAGES);
const SOURCES = textArray(['website', 'store', 'campaign', 'import', 'referral']);
const LIST_NAMES = textArray([
  'VIP customers',
  'Newsletter subscribers',
  'Wholesale buyers',
  'Abandoned carts',
  'Black Friday',
  'Beta testers',
  'Inactive 90 days',
  'Event attendees',
  'Loyalty members',
  'New sign-ups',
]);
const TAG_WORDS = textArray([
  'vip',
  'wholesale',
  'complaint',
  'refund',
  'delivery',
  'billing',
  'lead',
  'returning',
  'spanish speaker',
  'needs follow-up',
  'opted out',
  'influencer',
  'b2b',
  'priority',
  'churn risk',
  'upsell',
]);
const CAMPAIGN_NAMES = textArray([
  'Spring sale',
  'Order follow-up',
  'Welcome series',
  'Win-back',
  'Product launch',
  'Holiday greetings',
  'Feedback survey',
  'Restock alert',
]);
const INBOUND_TEXTS = textArray([
  'Hi! Is my order on its way?',
  'Do you deliver on Sundays?',
  'Thanks, that worked 🙏',
  'Can I change the delivery address?',
  'What time do you open tomorrow?',
  'The package arrived damaged.',
  'Is the 1kg bag back in stock?',
  'How do I cancel my subscription?',
  'Perfect, see you then!',
  'Can you send me the invoice?',
  'I was charged twice this month.',
  'Do you have a discount code?',
  'Stop sending me promotions please',
  'Where is your nearest store?',
  'Ok 👍',
]);
const OUTBOUND_TEXTS = textArray([
  'Hello! Thanks for reaching out, how can we help?',
  'Your order has shipped and should arrive in 2 days.',
  'We are open from 8am to 6pm, Monday to Saturday.',
  'I have updated the address on your order.',
  'Sorry about that! A replacement is on its way.',
  'Here is your invoice, let us know if anything is off.',
  'Use WELCOME10 for 10% off your next order.',
  'You have been unsubscribed from promotions.',
  'Is there anything else I can help you with?',
  'Great, we have refunded the duplicate charge.',
]);
/** Non-text message types, equally likely among the 15% of messages that are not TEXT. */
const MEDIA_TYPES = textArray([
  'IMAGE',
  'DOCUMENT',
  'AUDIO',
  'VIDEO',
  'STICKER',
  'LOCATION',
  'REACTION',
  'TEMPLATE',
  'INTERACTIVE',
  'CONTACTS',
  'ADDRESS',
]);
/**
 * Primes above 10^7: a list walks the contacts with one of them as stride, which visits
 * distinct contacts as long as it is coprime with the number of contacts (below 10^7).
 */
const STRIDES =
  'ARRAY[10000019, 10000079, 10000103, 10000121, 10000139, 10000141, 10000169, 10000189, 10000223, 10000229, 10000247, 10000253]::bigint[]';

/** Creates the `bench` schema: the plan table, helper functions, the fixture table. */
export const CREATE_BENCH_SCHEMA = `
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;

CREATE TABLE bench.plan (
  o int PRIMARY KEY, org uuid NOT NULL, name text NOT NULL, domain text NOT NULL,
  members int NOT NULL, contacts int NOT NULL, lists int NOT NULL, max_list_size int NOT NULL,
  tags int NOT NULL, campaigns int NOT NULL, conversations int NOT NULL, whales int NOT NULL
);

-- What the benchmark reads back: the organization, the API key, sample ids.
CREATE TABLE bench.fixture (name text PRIMARY KEY, value jsonb NOT NULL);

-- The id of row i of a kind in organization o (a uuid made of an md5).
CREATE FUNCTION bench.id(kind text, o int, i bigint) RETURNS uuid
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT md5('wagraph-bench:' || kind || ':' || o || ':' || i)::uuid $$;

-- A uniform number in [0, 1) for key k; salt tells the independent draws apart.
CREATE FUNCTION bench.u(salt int, k bigint) RETURNS float8
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT (hashint8extended(k, salt) & 9007199254740991)::float8 / 9007199254740992 $$;

CREATE FUNCTION bench.pick(items text[], salt int, k bigint) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT items[1 + floor(bench.u(salt, k) * cardinality(items))::int] $$;

-- A key unique to (organization, conversation, message) for the draws of one message.
CREATE FUNCTION bench.message_key(o int, c int, n int) RETURNS bigint
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT (o::bigint * 100000000 + c) * 1000000 + n $$;

-- When message n of a conversation was sent: evenly spaced, with jitter below half a
-- step, so that messages stay in order and Conversation.lastMessageAt can be computed
-- without reading them.
CREATE FUNCTION bench.message_at(started timestamptz, step_seconds int, o int, c int, n int) RETURNS timestamptz
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT started + make_interval(secs => n::float8 * step_seconds
                 + floor(bench.u(31, bench.message_key(o, c, n)) * (step_seconds / 2))) $$;
`;

/** Fills bench.plan from the JSON of `datasetPlan()`. Parameter $1: that JSON. */
export const FILL_PLAN = `
INSERT INTO bench.plan
SELECT p.index, bench.id('organization', p.index, 0), p.name, p.domain, p.members, p.contacts, p.lists,
       p."maxListSize", p.tags, p.campaigns, p.conversations, p.whales
FROM json_to_recordset($1::json) AS p(index int, name text, domain text, members int, contacts int, lists int,
     "maxListSize" int, tags int, campaigns int, conversations int, whales int)`;

export const ORGANIZATIONS = `
INSERT INTO "Organization" (id, name, "createdAt", "updatedAt")
SELECT org, name, ${NOW} - interval '3 years' + o * interval '20 days', ${NOW} - interval '3 years' + o * interval '20 days'
FROM bench.plan`;

/** Member 0 of each organization is its OWNER; the others are agents with a role. */
export const MEMBERS = `
INSERT INTO "OrganizationMember" (id, "organizationId", name, email, "accessLevel", "createdAt", "updatedAt")
SELECT bench.id('member', p.o, i), p.org,
       bench.pick(${FIRST_NAMES}, 1, p.o * 1000 + i) || ' ' || bench.pick(${LAST_NAMES}, 2, p.o * 1000 + i),
       CASE WHEN i = 0 THEN 'owner' ELSE 'agent' || i END || '@' || p.domain,
       (CASE WHEN i = 0 THEN 'OWNER' ELSE 'MEMBER' END)::"AccessLevel",
       ${NOW} - interval '1000 days' + i * interval '7 days', ${NOW} - interval '1000 days' + i * interval '7 days'
FROM bench.plan p, generate_series(0, p.members - 1) i`;

/** Parameters: $1 support permissions, $2 marketing permissions (text[]). */
export const ROLES = `
INSERT INTO "OrganizationRole" (id, "organizationId", name, description, permissions, "createdAt", "updatedAt")
SELECT bench.id('role', p.o, r.i), p.org, r.name, r.description, r.permissions, ${NOW} - interval '1000 days', ${NOW} - interval '1000 days'
FROM bench.plan p, (VALUES (0, 'Support agent', 'Answers conversations', $1::text[]),
                           (1, 'Marketing', 'Runs lists and campaigns', $2::text[])) AS r(i, name, description, permissions)`;

export const ROLE_ASSIGNMENTS = `
INSERT INTO "RoleAssignment" ("organizationId", "memberId", "roleId", "createdAt", "updatedAt")
SELECT p.org, bench.id('member', p.o, i), bench.id('role', p.o, i % 2), ${NOW} - interval '900 days', ${NOW} - interval '900 days'
FROM bench.plan p, generate_series(1, p.members - 1) i`;

/**
 * Phones: a country code and 9 national digits, 10^8 + (i · 7919) mod (9 · 10^8), which is
 * injective in i (7919 is prime) and never starts with 0; country codes of equal length
 * differ, so phones are unique.
 */
export const CONTACTS = `
INSERT INTO "Contact" (id, "organizationId", name, phone, status, attributes, "createdAt", "updatedAt")
SELECT bench.id('contact', p.o, i), p.org,
       bench.pick(${FIRST_NAMES}, 3, k) || ' ' || bench.pick(${LAST_NAMES}, 4, k),
       '+' || (${COUNTRY_CODES})[1 + i % 10] || (100000000 + (i::bigint * 7919) % 900000000)::text,
       (CASE WHEN bench.u(5, k) < 0.9 THEN 'ACTIVE' WHEN bench.u(5, k) < 0.97 THEN 'INACTIVE' ELSE 'BLOCKED' END)::"ContactStatus",
       jsonb_build_object('city', bench.pick(${CITIES}, 6, k), 'language', bench.pick(${LANGUAGES}, 7, k),
                          'source', bench.pick(${SOURCES}, 8, k), 'lifetimeValue', floor(bench.u(9, k) * 2000)::int),
       ${NOW} - interval '730 days' + make_interval(secs => i * 600 + floor(bench.u(10, k) * 600)),
       ${NOW} - interval '730 days' + make_interval(secs => i * 600 + floor(bench.u(10, k) * 600))
FROM bench.plan p, generate_series(0, p.contacts - 1) i, LATERAL (SELECT p.o::bigint * 100000000 + i AS k) h`;

export const LISTS = `
INSERT INTO "ContactList" (id, "organizationId", name, description, "createdAt", "updatedAt")
SELECT bench.id('list', p.o, i), p.org, bench.pick(${LIST_NAMES}, 11, p.o * 100000 + i) || ' ' || (i + 1),
       CASE WHEN i % 3 = 0 THEN NULL ELSE 'Segment ' || (i + 1) || ' of ' || p.name END,
       ${NOW} - interval '700 days' + i * interval '1 day', ${NOW} - interval '700 days' + i * interval '1 day'
FROM bench.plan p, generate_series(0, p.lists - 1) i`;

/**
 * List i holds 10 · (max/10)^(i/(lists-1)) contacts: sizes spread geometrically from 10
 * to max_list_size (most lists small, a few huge). It walks the contacts from a hashed
 * start with a prime stride, so its members are distinct and scattered. Lists are a day
 * apart and their members were added within hours of their creation, so a contact's
 * lists come in the same order by list creation as by membership creation (whichever a
 * server pages by). Lists whose number modulo $1 is $2 (see MESSAGES).
 */
export const LIST_MEMBERSHIPS = `
INSERT INTO "ContactListMembership" ("organizationId", "listId", "contactId", "createdAt", "updatedAt")
SELECT p.org, bench.id('list', p.o, i), bench.id('contact', p.o, (s.start + n * s.stride) % p.contacts),
       ${NOW} - interval '700 days' + i * interval '1 day' + (n + 1) * interval '1 second',
       ${NOW} - interval '700 days' + i * interval '1 day' + (n + 1) * interval '1 second'
FROM bench.plan p, generate_series(0, p.lists - 1) i,
     LATERAL (SELECT least(p.contacts, round(10 * power(p.max_list_size / 10.0, i::float8 / greatest(p.lists - 1, 1))))::int AS size,
                     floor(bench.u(12, p.o * 100000 + i) * p.contacts)::bigint AS start,
                     (${STRIDES})[1 + i % 12] AS stride) s,
     generate_series(0, s.size - 1) n
WHERE i % $1 = $2`;

/** Labels: a word, then the word and a number; unique per organization, case-insensitively. */
export const TAGS = `
INSERT INTO "Tag" (id, "organizationId", label, "createdAt", "updatedAt")
SELECT bench.id('tag', p.o, i), p.org,
       (${TAG_WORDS})[1 + i % cardinality(${TAG_WORDS})]
         || CASE WHEN i < cardinality(${TAG_WORDS}) THEN '' ELSE ' ' || (i / cardinality(${TAG_WORDS}) + 1) END,
       ${NOW} - interval '650 days' + i * interval '10 minutes', ${NOW} - interval '650 days' + i * interval '10 minutes'
FROM bench.plan p, generate_series(0, p.tags - 1) i`;

/** A tag drawn with u³: the first tags are far more popular, as in real inboxes. */
function popularTag(salt: number, key: string): string {
  return `bench.id('tag', p.o, floor(power(bench.u(${salt}, ${key}), 3) * p.tags)::int)`;
}

/** Contacts have 0 to 4 tags (2 on average); those whose number modulo $1 is $2. */
export const CONTACT_TAGS = `
INSERT INTO "ContactTag" ("organizationId", "contactId", "tagId", "createdAt", "updatedAt")
SELECT p.org, bench.id('contact', p.o, i), ${popularTag(14, '(p.o::bigint * 100000000 + i) * 8 + j')},
       ${NOW} - interval '600 days', ${NOW} - interval '600 days'
FROM bench.plan p, generate_series(0, p.contacts - 1) i,
     generate_series(1, floor(bench.u(13, p.o::bigint * 100000000 + i) * 5)::int) j
WHERE i % $1 = $2
ON CONFLICT DO NOTHING`;

/** Lists have 0 to 2 tags. */
export const LIST_TAGS = `
INSERT INTO "ListTag" ("organizationId", "listId", "tagId", "createdAt", "updatedAt")
SELECT p.org, bench.id('list', p.o, i), ${popularTag(16, '(p.o * 100000 + i) * 8 + j')},
       ${NOW} - interval '600 days', ${NOW} - interval '600 days'
FROM bench.plan p, generate_series(0, p.lists - 1) i,
     generate_series(1, floor(bench.u(15, p.o * 100000 + i) * 3)::int) j
ON CONFLICT DO NOTHING`;

export const CAMPAIGNS = `
INSERT INTO "Campaign" (id, "organizationId", name, description, status, "createdAt", "updatedAt")
SELECT bench.id('campaign', p.o, i), p.org, bench.pick(${CAMPAIGN_NAMES}, 17, p.o * 1000 + i) || ' ' || (i + 1),
       CASE WHEN i % 2 = 0 THEN 'Campaign ' || (i + 1) || ' of ' || p.name END,
       (CASE WHEN i < p.campaigns - 3 THEN 'FINISHED' ELSE bench.pick(ARRAY['DRAFT', 'SCHEDULED', 'RUNNING', 'PAUSED', 'CANCELLED'], 18, p.o * 1000 + i) END)::"CampaignStatus",
       ${NOW} - interval '500 days' + i * interval '9 days', ${NOW} - interval '500 days' + i * interval '9 days'
FROM bench.plan p, generate_series(0, p.campaigns - 1) i;

INSERT INTO "CampaignList" ("organizationId", "campaignId", "listId", "createdAt", "updatedAt")
SELECT p.org, bench.id('campaign', p.o, i), bench.id('list', p.o, floor(bench.u(20, (p.o * 1000 + i) * 8 + j) * p.lists)::int),
       ${NOW} - interval '500 days' + i * interval '9 days', ${NOW} - interval '500 days' + i * interval '9 days'
FROM bench.plan p, generate_series(0, p.campaigns - 1) i, generate_series(0, floor(bench.u(19, p.o * 1000 + i) * 3)::int) j
ON CONFLICT DO NOTHING`;

/**
 * One row per conversation with everything its messages depend on, so that the
 * conversation and its messages are generated from the same numbers. Whales (c < whales)
 * are the oldest conversations, still ACTIVE, spread over 399 days up to just before NOW;
 * contact k owns whales 5k..5k+4. Other conversations hold 1 + 130·u² messages (about 44)
 * two to twelve minutes apart, and start at a random day of the last year.
 */
export const CONVERSATION_PLAN = `
CREATE UNLOGGED TABLE bench.conversation_plan AS
SELECT p.o, c, p.org, bench.id('conversation', p.o, c) AS id, x.message_count,
       CASE WHEN c < p.whales THEN c / 5 ELSE floor(bench.u(21, k) * p.contacts)::int END AS contact_index,
       CASE WHEN c < p.whales THEN ${NOW} - interval '400 days' + c * interval '1 hour'
            ELSE ${NOW} - make_interval(secs => floor(bench.u(22, k) * 365 * 86400)) END AS started,
       CASE WHEN c < p.whales THEN (399 * 86400 / x.message_count)::int ELSE 120 + floor(bench.u(23, k) * 600)::int END AS step_seconds,
       (CASE WHEN c < p.whales OR bench.u(24, k) < 0.3 THEN 'ACTIVE' WHEN bench.u(24, k) < 0.6 THEN 'CLOSED' ELSE 'RESOLVED' END)::"ConversationStatus" AS status,
       bench.u(25, k) < 0.2 AND c >= p.whales AS by_campaign,
       floor(bench.u(26, k) * p.campaigns)::int AS campaign_index,
       CASE WHEN bench.u(27, k) < 0.75 THEN floor(bench.u(28, k) * p.members)::int END AS assigned_index,
       -- ACTIVE conversations end with 0 to 3 inbound messages nobody has read yet.
       floor(bench.u(29, k) * 4)::int AS unread_tail
FROM bench.plan p, generate_series(0, p.conversations - 1) c,
     LATERAL (SELECT p.o::bigint * 100000000 + c AS k) h,
     LATERAL (SELECT CASE WHEN c < p.whales THEN 5000 + floor(bench.u(30, k) * 3000)::int
                          ELSE 1 + floor(power(bench.u(30, k), 2) * 130)::int END AS message_count) x;
ALTER TABLE bench.conversation_plan ADD PRIMARY KEY (o, c)`;

export const CONVERSATIONS = `
INSERT INTO "Conversation" (id, "organizationId", "contactId", "campaignId", "assignedToId", status, "initiatedBy",
                            "lastMessageAt", "createdAt", "updatedAt")
SELECT cp.id, cp.org, bench.id('contact', cp.o, cp.contact_index),
       CASE WHEN cp.by_campaign THEN bench.id('campaign', cp.o, cp.campaign_index) END,
       CASE WHEN cp.assigned_index IS NOT NULL THEN bench.id('member', cp.o, cp.assigned_index) END,
       cp.status, (CASE WHEN cp.by_campaign THEN 'CAMPAIGN' ELSE 'CONTACT' END)::"ConversationInitiator",
       bench.message_at(cp.started, cp.step_seconds, cp.o, cp.c, cp.message_count - 1),
       cp.started, bench.message_at(cp.started, cp.step_seconds, cp.o, cp.c, cp.message_count - 1)
FROM bench.conversation_plan cp;

-- A third of conversations carry a tag or two.
INSERT INTO "ConversationTag" ("organizationId", "conversationId", "tagId", "createdAt", "updatedAt")
SELECT p.org, cp.id, ${popularTag(33, '(p.o::bigint * 100000000 + cp.c) * 8 + j')}, cp.started, cp.started
FROM bench.plan p JOIN bench.conversation_plan cp ON cp.o = p.o,
     generate_series(1, greatest(0, floor(bench.u(32, p.o::bigint * 100000000 + cp.c) * 6)::int - 3)) j
ON CONFLICT DO NOTHING`;

/**
 * Messages of the conversations whose number modulo $1 is $2: the caller runs the
 * statement for every remainder at once, on as many connections, to use every core.
 *
 * A conversation opens with the contact (or with the campaign's template), then
 * directions alternate at random. 85% are TEXT with { "text": … }; 8% reply to one of the
 * ten messages before them. Inbound messages are READ except an ACTIVE conversation's
 * unread tail (DELIVERED); outbound ones are READ, FAILED (3%) or UNDELIVERED (1%), and
 * the last two SENT or DELIVERED.
 */
export const MESSAGES = `
INSERT INTO "Message" (id, "organizationId", "conversationId", "replyToId", direction, status, "messageType",
                       "messageData", "whatsAppMessageId", "createdAt", "updatedAt")
SELECT bench.id('message', cp.o, cp.c::bigint * 1000000 + n), cp.org, cp.id,
       CASE WHEN n > 0 AND bench.u(34, m.k) < 0.08
            THEN bench.id('message', cp.o, cp.c::bigint * 1000000 + n - 1 - floor(bench.u(35, m.k) * least(n, 10))::int) END,
       m.direction::"MessageDirection",
       (CASE WHEN m.direction = 'INBOUND' THEN
               CASE WHEN cp.status = 'ACTIVE' AND n >= cp.message_count - cp.unread_tail THEN 'DELIVERED' ELSE 'READ' END
             WHEN n >= cp.message_count - 2 THEN CASE WHEN bench.u(36, m.k) < 0.5 THEN 'SENT' ELSE 'DELIVERED' END
             WHEN bench.u(36, m.k) < 0.03 THEN 'FAILED'
             WHEN bench.u(36, m.k) < 0.04 THEN 'UNDELIVERED'
             ELSE 'READ' END)::"MessageStatus",
       m.type::"MessageType",
       CASE m.type
         WHEN 'TEXT' THEN jsonb_build_object('text',
           CASE WHEN m.direction = 'INBOUND' THEN bench.pick(${INBOUND_TEXTS}, 37, m.k) ELSE bench.pick(${OUTBOUND_TEXTS}, 37, m.k) END)
         WHEN 'TEMPLATE' THEN jsonb_build_object('template', jsonb_build_object('name', 'order_update', 'language', jsonb_build_object('code', 'en')))
         WHEN 'LOCATION' THEN jsonb_build_object('location', jsonb_build_object('latitude', -23.55 + bench.u(38, m.k), 'longitude', -46.63 + bench.u(39, m.k)))
         WHEN 'REACTION' THEN jsonb_build_object('reaction', jsonb_build_object('emoji', '👍'))
         WHEN 'CONTACTS' THEN jsonb_build_object('contacts', jsonb_build_array(jsonb_build_object(
           'name', jsonb_build_object('formatted_name', bench.pick(${FIRST_NAMES}, 43, m.k)),
           'phones', jsonb_build_array(jsonb_build_object('phone', '+1415555' || (1000 + m.k % 9000))))))
         WHEN 'ADDRESS' THEN jsonb_build_object('address', jsonb_build_object('city', bench.pick(${CITIES}, 43, m.k), 'street', (1 + m.k % 999) || ' Main St'))
         WHEN 'INTERACTIVE' THEN jsonb_build_object('interactive', jsonb_build_object('type', 'button_reply',
           'button_reply', jsonb_build_object('id', 'confirm', 'title', 'Confirm order')))
         ELSE jsonb_build_object(lower(m.type), jsonb_build_object('id', md5(m.k::text), 'mime_type',
           CASE m.type WHEN 'IMAGE' THEN 'image/jpeg' WHEN 'VIDEO' THEN 'video/mp4' WHEN 'AUDIO' THEN 'audio/ogg'
                       WHEN 'STICKER' THEN 'image/webp' ELSE 'application/pdf' END))
       END,
       'wamid.HBgL' || to_hex(m.k),
       bench.message_at(cp.started, cp.step_seconds, cp.o, cp.c, n),
       bench.message_at(cp.started, cp.step_seconds, cp.o, cp.c, n)
FROM bench.conversation_plan cp, generate_series(0, cp.message_count - 1) n,
     LATERAL (SELECT bench.message_key(cp.o, cp.c, n) AS k) h,
     LATERAL (SELECT h.k,
                     CASE WHEN n = 0 THEN CASE WHEN cp.by_campaign THEN 'OUTBOUND' ELSE 'INBOUND' END
                          WHEN cp.status = 'ACTIVE' AND n >= cp.message_count - cp.unread_tail THEN 'INBOUND'
                          WHEN bench.u(40, h.k) < 0.5 THEN 'INBOUND' ELSE 'OUTBOUND' END AS direction,
                     CASE WHEN n = 0 AND cp.by_campaign THEN 'TEMPLATE'
                          WHEN bench.u(41, h.k) < 0.85 THEN 'TEXT'
                          ELSE bench.pick(${MEDIA_TYPES}, 42, h.k) END AS type) m
WHERE cp.c % $1 = $2`;

// One of every change the change feed records, made the way clients and WhatsApp make them
// (mutations where the API has one, the database where only processing writes), and the
// events they must produce, in order: shared by the feed's tests (Query.events) and the
// subscriptions' (every kind delivered live).
import { expect } from 'vitest';
import { globalId, type TestClient } from './client.js';
import { createConversation, createList, createMember, createTag, type TestOrganization } from './factories.js';

export const EVERY_KIND_IN_ORDER = [
  'CONTACT_CREATED',
  'CONTACT_UPDATED',
  'CONTACT_TAGS_CHANGED',
  'CONTACT_LISTS_CHANGED',
  'CONVERSATION_CREATED',
  'MESSAGE_CREATED',
  'MESSAGE_STATUS_CHANGED',
  'MESSAGE_CREATED',
  // Reading is one statement: the counter it moves reports the conversation read first.
  'CONVERSATION_READ',
  'MESSAGE_STATUS_CHANGED',
  'CONVERSATION_ASSIGNED',
  'CONVERSATION_STATUS_CHANGED',
  'CONVERSATION_TAGS_CHANGED',
  'CONVERSATION_UNASSIGNED',
  'CONVERSATION_UPDATED',
  // The contact's deletion takes its conversation with it; its lists and tags go too, which
  // the deletion says already.
  'CONTACT_DELETED',
  'CONVERSATION_DELETED',
] as const;

export async function changeEverything(client: TestClient, org: TestOrganization) {
  const owner = org.owner;
  const mutate = async (document: string, input: Record<string, unknown>) => {
    const response = await client.gql(document, { input }, { as: owner });
    expect(response.errors).toBeUndefined();
    const [payload] = Object.values(response.data ?? {}) as { userErrors: unknown[] }[];
    expect(payload?.userErrors).toEqual([]);
    return payload as any;
  };
  const agent = await createMember(client.db, org.id, { name: 'Agent' });
  const tag = await createTag(client.db, org.id);
  const list = await createList(client.db, org.id);
  const { contact } = await mutate(
    `mutation($input: CreateContactInput!) { createContact(input: $input) { contact { id } userErrors { message } } }`,
    { name: 'Ana', phone: `+55119${String(Date.now()).slice(-8)}` },
  );
  const contactId = contact.id as string;
  await mutate(
    `mutation($input: UpdateContactInput!) { updateContact(input: $input) { contact { id } userErrors { message } } }`,
    { id: contactId, name: 'Ana Maria', tagIds: [globalId('Tag', tag.id)] },
  );
  await mutate(
    `mutation($input: AddContactsToListInput!) { addContactsToList(input: $input) { list { id } userErrors { message } } }`,
    { listId: globalId('List', list.id), contactIds: [contactId] },
  );
  const rawContactId = Buffer.from(contactId, 'base64').toString().split(':')[1] ?? '';
  // Conversations start with a contact's first message (inbound processing), not by mutation.
  const conversation = await createConversation(client.db, org.id, { contactId: rawContactId });
  const conversationId = globalId('Conversation', conversation.id);
  const sent = await mutate(
    `mutation($input: SendMessageInput!) { sendMessage(input: $input) { message { id } userErrors { message } } }`,
    { conversationId, text: 'Hello' },
  );
  const sentId = Buffer.from(sent.message.id, 'base64').toString().split(':')[1] ?? '';
  // WhatsApp reports it delivered (a status webhook, processed).
  await client.db.prisma.message.update({ where: { id: sentId }, data: { status: 'DELIVERED' } });
  // The contact answers (inbound processing), and an agent reads it.
  await client.db.prisma.message.create({
    data: {
      organizationId: org.id,
      conversationId: conversation.id,
      direction: 'INBOUND',
      status: 'DELIVERED',
      messageType: 'TEXT',
      messageData: { text: 'Hi!' },
    },
  });
  await mutate(
    `mutation($input: MarkConversationReadInput!) { markConversationRead(input: $input) { conversation { id } userErrors { message } } }`,
    { id: conversationId },
  );
  await mutate(
    `mutation($input: AssignConversationInput!) { assignConversation(input: $input) { conversation { id } userErrors { message } } }`,
    { id: conversationId, memberId: globalId('OrganizationMember', agent.id) },
  );
  await mutate(
    `mutation($input: UpdateConversationInput!) { updateConversation(input: $input) { conversation { id } userErrors { message } } }`,
    { id: conversationId, status: 'RESOLVED', tagIds: [globalId('Tag', tag.id)] },
  );
  await mutate(
    `mutation($input: UnassignConversationInput!) { unassignConversation(input: $input) { conversation { id } userErrors { message } } }`,
    { id: conversationId },
  );
  // Its campaign changes (as when a campaign's message lands in an existing conversation).
  const campaign = await client.db.prisma.campaign.create({ data: { organizationId: org.id, name: 'Spring' } });
  await client.db.prisma.conversation.update({ where: { id: conversation.id }, data: { campaignId: campaign.id } });
  await mutate(
    `mutation($input: DeleteContactInput!) { deleteContact(input: $input) { deletedId userErrors { message } } }`,
    { id: contactId },
  );
  return { contactId, conversationId, sentMessageId: sent.message.id as string };
}

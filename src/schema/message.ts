// Messages of a conversation, in both directions, of every WhatsApp message type.
import { builder } from '../builder.js';
import {
  MessageDirection as MessageDirectionValues,
  MessageStatus as MessageStatusValues,
  MessageType as MessageTypeValues,
} from '../generated/prisma/enums.js';
import type { MessageCriteria } from '../loaders/sources.js';
import { Conversation } from './conversation.js';

export const MessageDirection = builder.enumType(MessageDirectionValues, { name: 'MessageDirection' });
export const MessageStatus = builder.enumType(MessageStatusValues, { name: 'MessageStatus' });
export const MessageType = builder.enumType(MessageTypeValues, { name: 'MessageType' });

export const Message = builder.prismaNode('Message', {
  // Messages are part of conversations: WapiKit has no permission of their own for them.
  authScopes: { permission: 'Get:Conversation' },
  id: { field: 'id' },
  fields: (t) => ({
    conversation: t.relation('conversation', { type: Conversation }),
    direction: t.expose('direction', { type: MessageDirection }),
    status: t.expose('status', { type: MessageStatus }),
    messageType: t.expose('messageType', { type: MessageType }),
    messageData: t.expose('messageData', { type: 'JSON', description: 'The WhatsApp payload of the message.' }),
    text: t.string({
      nullable: true,
      description: 'The text of a TEXT message; null for other types.',
      resolve: (message) => {
        const data = message.messageData;
        if (message.messageType !== 'TEXT' || !data || typeof data !== 'object' || Array.isArray(data)) return null;
        return typeof data.text === 'string' ? data.text : null;
      },
    }),
    whatsAppMessageId: t.exposeString('whatsAppMessageId', { nullable: true }),
  }),
});

// Relations and connections are declared apart from the scalar fields, so that the types
// of nodes that refer to each other do not depend on one another.
builder.prismaObjectFields(Message, (t) => ({
  replyTo: t.relation('replyTo', { type: Message, nullable: true, description: 'The message this one answers.' }),
  createdAt: t.expose('createdAt', { type: 'DateTime' }),
}));

export const MessageConnection = builder.connectionObject(
  { type: Message, name: 'MessageConnection' },
  { name: 'MessageEdge' },
);

export const MessageFilter = builder.inputType('MessageFilter', {
  fields: (t) => ({
    direction: t.field({ type: MessageDirection }),
    status: t.field({ type: [MessageStatus], description: 'Messages with any of these statuses.' }),
    messageType: t.field({ type: [MessageType], description: 'Messages of any of these types.' }),
  }),
});

export function messageCriteria(filter: typeof MessageFilter.$inferInput | null | undefined): MessageCriteria | null {
  if (!filter) return null;
  return {
    ...(filter.direction ? { direction: filter.direction } : {}),
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.messageType ? { messageType: filter.messageType } : {}),
  };
}

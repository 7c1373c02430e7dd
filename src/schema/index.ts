// The schema: the builder plus every type module. Importing a module registers its types.
import { lexicographicSortSchema } from 'graphql';
import { builder } from '../builder.js';
import './common.js';
import './organization.js';
import './contact.js';
import './list.js';
import './tag.js';
import './campaign.js';
import './conversation.js';
import './message.js';
import './api-key.js';
import './whatsapp-channel.js';
import './webhook-delivery.js';
import './event.js';
import './subscription.js';
import './contact-mutations.js';
import './list-mutations.js';
import './tag-mutations.js';
import './conversation-mutations.js';
import './message-mutations.js';
import './whatsapp-channel-mutations.js';
import './node.js';

export const schema = lexicographicSortSchema(builder.toSchema());

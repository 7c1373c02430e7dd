// The tasks that the gateway (WORKERS=in-process) and `npm run worker` run. The webhook
// processing and outbound delivery tasks; campaign tasks are added here as they are built.
import { deliverMessages } from '../whatsapp/outbound.js';
import { processWebhookDelivery } from '../whatsapp/process.js';
import type { TaskDefinition } from './task.js';

export const APP_TASKS: readonly TaskDefinition[] = [processWebhookDelivery, deliverMessages];

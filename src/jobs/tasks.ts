// The tasks that the gateway (WORKERS=in-process) and `npm run worker` run. The webhook
// processing, outbound delivery and campaign tasks are added here as they are built.
import { processWebhookDelivery } from '../whatsapp/process.js';
import type { TaskDefinition } from './task.js';

export const APP_TASKS: readonly TaskDefinition[] = [processWebhookDelivery];

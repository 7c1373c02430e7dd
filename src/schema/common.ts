// Types shared by several schema modules.
import { builder } from '../builder.js';

export const OrderDirection = builder.enumType('OrderDirection', {
  values: ['ASC', 'DESC'] as const,
});

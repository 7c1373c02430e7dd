// Types shared by several schema modules.
import { builder } from '../builder.js';
import type { Context } from '../context.js';

export const OrderDirection = builder.enumType('OrderDirection', {
  values: ['ASC', 'DESC'] as const,
});

/**
 * A row reached through a plain (not composite) foreign key, if it is in the viewer's
 * organization. Such keys (a conversation's campaign and assignee, a message's replyTo)
 * are kept inside the organization by the write API only; the database would accept a
 * link to another organization's row, and that row must never be returned.
 */
export function inOrganization<Row extends { organizationId: string }>(ctx: Context, row: Row | null): Row | null {
  return row?.organizationId === ctx.viewer.organizationId ? row : null;
}

// Types shared by several schema modules.
import { builder } from '../builder.js';

/**
 * An enum type whose every value is described. Give the value type explicitly (a Prisma enum,
 * or a union of names) so that the compiler refuses a value left out or one that does not exist.
 */
export function describedEnum<const Value extends string>(
  name: string,
  description: string,
  values: Record<Value, string>,
) {
  return builder.enumType(name, {
    description,
    values: Object.fromEntries(
      Object.entries<string>(values).map(([value, text]) => [value, { description: text }]),
    ) as Record<Value, { description: string }>,
  });
}

export const OrderDirection = describedEnum<'ASC' | 'DESC'>('OrderDirection', 'The direction of an ordering.', {
  ASC: 'Ascending: oldest, smallest or alphabetically first.',
  DESC: 'Descending: newest, largest or alphabetically last first.',
});

import { type AuthFailure, AuthScopeFailureType } from '@pothos/plugin-scope-auth';
import { GraphQLError } from 'graphql';

// The WapiKit permission strings wagraph understands. A member's permissions are the
// union of its roles' permissions; an OWNER holds every one of them.
export const PERMISSIONS = [
  'Get:Organization',
  'Update:Organization',
  'Get:OrganizationMember',
  'Create:OrganizationMember',
  'Update:OrganizationMember',
  'Delete:OrganizationMember',
  'Get:OrganizationRole',
  'Create:OrganizationRole',
  'Update:OrganizationRole',
  'Delete:OrganizationRole',
  'Get:ApiKey',
  'Regenerate:ApiKey',
  // Not WapiKit's: revoking other members' API keys (not owners'). Regenerate:ApiKey covers one's own.
  'Revoke:ApiKey',
  'Get:Contact',
  'Create:Contact',
  'Update:Contact',
  'Delete:Contact',
  'BulkImport:Contacts',
  'Get:List',
  'Create:List',
  'Update:List',
  'Delete:List',
  'Get:Tag',
  'Create:Tag',
  'Update:Tag',
  'Delete:Tag',
  'Get:Campaign',
  'Create:Campaign',
  'Update:Campaign',
  'Delete:Campaign',
  'Get:Conversation',
  'Update:Conversation',
  'Delete:Conversation',
  'Assign:Conversation',
  'Unassign:Conversation',
  // WhatsApp channels (business phone numbers); Create: connect one, Delete: disconnect it.
  'Get:WhatsAppChannel',
  'Create:WhatsAppChannel',
  'Update:WhatsAppChannel',
  'Delete:WhatsAppChannel',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

const KNOWN: ReadonlySet<string> = new Set(PERMISSIONS);

export function isPermission(value: string): value is Permission {
  return KNOWN.has(value);
}

/** Unknown strings in a role (a typo, a permission of a newer WapiKit) grant nothing. */
export function effectivePermissions(
  accessLevel: 'OWNER' | 'MEMBER',
  rolePermissions: Iterable<string>,
): Set<Permission> {
  if (accessLevel === 'OWNER') return new Set(PERMISSIONS);
  const granted = new Set<Permission>();
  for (const permission of rolePermissions) if (isPermission(permission)) granted.add(permission);
  return granted;
}

/** The permissions whose absence made a scope check fail. */
export function missingPermissions(failure: AuthFailure): string[] {
  switch (failure.kind) {
    case AuthScopeFailureType.AuthScope:
      return failure.scope === 'permission' ? [String(failure.parameter)] : [];
    case AuthScopeFailureType.AnyAuthScopes:
    case AuthScopeFailureType.AllAuthScopes:
      return [...new Set(failure.failures.flatMap(missingPermissions))];
    default:
      return [];
  }
}

export function forbiddenMessage(permissions: readonly string[]): string {
  return permissions.length === 0
    ? 'You are not allowed to do this.'
    : `You do not have the ${permissions.join(' or ')} permission${permissions.length > 1 ? 's' : ''}.`;
}

/** The GraphQL error of a query field the viewer may not read. */
export function forbidden(failure: AuthFailure): GraphQLError {
  const permissions = missingPermissions(failure);
  return new GraphQLError(forbiddenMessage(permissions), { extensions: { code: 'FORBIDDEN', permissions } });
}

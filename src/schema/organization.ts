// The organization (tenant), its members and roles, and the viewer: who the request acts as.
import { createContextCache } from '@pothos/core';
import { builder } from '../builder.js';
import type { Context } from '../context.js';
import type { AccessLevel as AccessLevelValue } from '../generated/prisma/enums.js';
import { organizationMembers } from '../loaders/sources.js';
import { describedEnum } from './common.js';
import { resolveConnection } from './connections.js';

export const AccessLevel = describedEnum<AccessLevelValue>('AccessLevel', "A member's standing in its organization.", {
  OWNER: 'Holds every permission, whatever its roles; only an owner may revoke another owner’s API keys.',
  MEMBER: 'Holds the permissions of its roles.',
});

// No authScopes, deliberately: every member may read its own organization's id, name and
// creation date without Get:Organization. A member knows which organization it works in
// (the credential names it), and no other is reachable. In WapiKit, Get:Organization guards
// the organization's settings (WhatsApp business account, webhooks, integrations); a field
// of that kind added here must require it (a field-level `authScopes`).
export const Organization = builder.prismaNode('Organization', {
  description:
    'A business using WhatsApp: the tenant that owns every other object. A request reads and writes only its own organization.',
  id: { field: 'id' },
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The organization’s display name.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the organization was created.' }),
  }),
});

/**
 * The ids of the roles the viewer holds: read once per request, and only for a viewer that
 * has neither permission to read roles (a key's permissions come from its roles, not the ids).
 */
const viewerRoleIds = createContextCache(async (ctx: Context) => {
  const assignments = await ctx.db.roleAssignment.findMany({
    where: { memberId: ctx.viewer.memberId },
    select: { roleId: true },
  });
  return new Set(assignments.map((assignment) => assignment.roleId));
});

export const OrganizationRole = builder.prismaNode('OrganizationRole', {
  // Roles are part of what a member is: readable with either permission, and every member
  // reads its own roles (viewer.member.roles, node(id)) without any.
  authScopes: async (role, ctx) =>
    ctx.viewer.permissions.has('Get:OrganizationRole') ||
    ctx.viewer.permissions.has('Get:OrganizationMember') ||
    (await viewerRoleIds(ctx)).has(role.id) || { permission: 'Get:OrganizationRole' },
  description:
    'A named set of permissions given to members. Readable with Get:OrganizationRole or Get:OrganizationMember; every member reads its own roles.',
  id: { field: 'id' },
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The role’s name, unique in the organization.' }),
    description: t.exposeString('description', {
      nullable: true,
      description: 'What the role is for; null when not given.',
    }),
    permissions: t.exposeStringList('permissions', {
      description: 'The permissions the role grants, as WapiKit names them (`Get:Contact`, `Create:Contact`, …).',
    }),
  }),
});

export const OrganizationMember = builder.prismaNode('OrganizationMember', {
  // Every member may read itself (Query.viewer.member); others need the permission.
  authScopes: (member, ctx) => member.id === ctx.viewer.memberId || { permission: 'Get:OrganizationMember' },
  description:
    'A person who works in the organization. Reading another member needs Get:OrganizationMember; every member reads itself (`viewer.member`).',
  id: { field: 'id' },
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The member’s name.' }),
    email: t.exposeString('email', { description: 'The member’s email address.' }),
    accessLevel: t.expose('accessLevel', { type: AccessLevel, description: 'OWNER or MEMBER.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the member joined the organization.' }),
    roles: t.field({
      type: [OrganizationRole],
      description: 'The roles the member holds, in the order they were given.',
      select: (_args, _ctx, nestedSelection) => ({
        roleAssignments: { select: { role: nestedSelection() }, orderBy: { createdAt: 'asc' } },
      }),
      resolve: (member) => member.roleAssignments.map((assignment) => assignment.role),
    }),
  }),
});

export const OrganizationMemberConnection = builder.connectionObject(
  {
    type: OrganizationMember,
    name: 'OrganizationMemberConnection',
    description:
      'A page of organization members, with the cursors to page through the rest and, on request, their total count.',
  },
  { name: 'OrganizationMemberEdge', description: 'A member in a page, with its cursor.' },
);

interface ViewerShape {
  memberId: string;
  organizationId: string;
  permissions: string[];
}

export const Viewer = builder.objectRef<ViewerShape>('Viewer').implement({
  description: 'The organization member the request acts as.',
  fields: (t) => ({
    member: t.prismaField({
      type: OrganizationMember,
      description: 'The member the credential (API key or JWT) acts as.',
      resolve: (query, viewer, _args, ctx) =>
        ctx.db.organizationMember.findUniqueOrThrow({ ...query, where: { id: viewer.memberId } }),
    }),
    organization: t.prismaField({
      type: Organization,
      description: 'The organization the member works in; needs no permission.',
      resolve: (query, viewer, _args, ctx) =>
        ctx.db.organization.findUniqueOrThrow({ ...query, where: { id: viewer.organizationId } }),
    }),
    permissions: t.exposeStringList('permissions', {
      description: "The union of the member's roles' permissions (every permission for an OWNER).",
    }),
  }),
});

builder.queryFields((t) => ({
  viewer: t.field({
    type: Viewer,
    description: 'Who the request acts as: the member, its organization and its permissions. Needs no permission.',
    resolve: (_root, _args, ctx) => ({
      memberId: ctx.viewer.memberId,
      organizationId: ctx.viewer.organizationId,
      permissions: [...ctx.viewer.permissions].sort(),
    }),
  }),
  members: t.connection(
    {
      type: OrganizationMember,
      description: 'The organization’s members, oldest first. Needs Get:OrganizationMember.',
      authScopes: { permission: 'Get:OrganizationMember' },
      resolve: (_root, args, ctx, info) =>
        resolveConnection(ctx, info, { source: organizationMembers, model: 'organizationMember', args }),
    },
    OrganizationMemberConnection,
  ),
}));

// The organization (tenant), its members and roles, and the viewer: who the request acts as.
import { createContextCache } from '@pothos/core';
import { builder } from '../builder.js';
import type { Context } from '../context.js';
import { AccessLevel as AccessLevelValues } from '../generated/prisma/enums.js';
import { members as membersSource } from '../loaders/sources.js';
import { resolveConnection } from './connections.js';

export const AccessLevel = builder.enumType(AccessLevelValues, { name: 'AccessLevel' });

// No authScopes, deliberately: every member may read its own organization's id, name and
// creation date without Get:Organization. A member knows which organization it works in
// (the credential names it), and no other is reachable. In WapiKit, Get:Organization guards
// the organization's settings (WhatsApp business account, webhooks, integrations); a field
// of that kind added here must require it (a field-level `authScopes`).
export const Organization = builder.prismaNode('Organization', {
  id: { field: 'id' },
  fields: (t) => ({
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
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
  id: { field: 'id' },
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    permissions: t.exposeStringList('permissions'),
  }),
});

export const OrganizationMember = builder.prismaNode('OrganizationMember', {
  // Every member may read itself (Query.viewer.member); others need the permission.
  authScopes: (member, ctx) => member.id === ctx.viewer.memberId || { permission: 'Get:OrganizationMember' },
  id: { field: 'id' },
  fields: (t) => ({
    name: t.exposeString('name'),
    email: t.exposeString('email'),
    accessLevel: t.expose('accessLevel', { type: AccessLevel }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    roles: t.field({
      type: [OrganizationRole],
      select: (_args, _ctx, nestedSelection) => ({
        roleAssignments: { select: { role: nestedSelection() }, orderBy: { createdAt: 'asc' } },
      }),
      resolve: (member) => member.roleAssignments.map((assignment) => assignment.role),
    }),
  }),
});

export const OrganizationMemberConnection = builder.connectionObject(
  { type: OrganizationMember, name: 'OrganizationMemberConnection' },
  { name: 'OrganizationMemberEdge' },
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
      resolve: (query, viewer, _args, ctx) =>
        ctx.db.organizationMember.findUniqueOrThrow({ ...query, where: { id: viewer.memberId } }),
    }),
    organization: t.prismaField({
      type: Organization,
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
    resolve: (_root, _args, ctx) => ({
      memberId: ctx.viewer.memberId,
      organizationId: ctx.viewer.organizationId,
      permissions: [...ctx.viewer.permissions].sort(),
    }),
  }),
  members: t.connection(
    {
      type: OrganizationMember,
      authScopes: { permission: 'Get:OrganizationMember' },
      resolve: (_root, args, ctx, info) =>
        resolveConnection(ctx, info, { source: membersSource, model: 'organizationMember', args }),
    },
    OrganizationMemberConnection,
  ),
}));

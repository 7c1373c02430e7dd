// Organization, OrganizationMember (and its roles), OrganizationRole, the viewer, and the
// root `members` connection.
import { beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS } from '../src/auth/permissions.js';
import { createTestClient, globalId, type TestClient } from './helpers/client.js';
import { dataOf } from './helpers/connections.js';
import { at, createMember, createOrganization, type TestOrganization } from './helpers/factories.js';

let client: TestClient;

beforeAll(async () => {
  client = await createTestClient();
});

/** A member with two roles, assigned in a known order, one of them without a description. */
async function memberWithRoles(org: TestOrganization) {
  const organizationId = org.id;
  const member = await createMember(client.db, organizationId, { name: 'Sam Support' });
  const agent = await client.db.prisma.organizationRole.create({
    data: {
      organizationId,
      name: 'Agent',
      description: 'Answers chats',
      permissions: ['Get:Conversation', 'Get:OrganizationMember', 'Get:Contact'],
    },
  });
  const viewer = await client.db.prisma.organizationRole.create({
    data: { organizationId, name: 'Viewer', permissions: ['Get:Contact', 'Get:Tag', 'Not:APermission'] },
  });
  await client.db.prisma.roleAssignment.create({
    data: { organizationId, memberId: member.id, roleId: viewer.id, createdAt: at(2) },
  });
  await client.db.prisma.roleAssignment.create({
    data: { organizationId, memberId: member.id, roleId: agent.id, createdAt: at(1) },
  });
  const row = await client.db.prisma.organizationMember.findUniqueOrThrow({ where: { id: member.id } });
  return { member, row, agent, viewer };
}

describe('the viewer', () => {
  it('is the key’s member, its organization, and the union of its roles’ known permissions', async () => {
    const org = await createOrganization(client.db, 'Viewer Org');
    const { member, row, agent, viewer } = await memberWithRoles(org);
    const organization = await client.db.prisma.organization.findUniqueOrThrow({ where: { id: org.id } });
    const data = dataOf(
      await client.gql(
        `{ viewer {
          member { id name email accessLevel createdAt roles { id name description permissions } }
          organization { id name createdAt }
          permissions
        } }`,
        {},
        { as: member },
      ),
    );
    expect(data.viewer).toEqual({
      member: {
        id: globalId('OrganizationMember', member.id),
        name: 'Sam Support',
        email: row.email,
        accessLevel: 'MEMBER',
        createdAt: row.createdAt.toISOString(),
        roles: [
          {
            id: globalId('OrganizationRole', agent.id),
            name: 'Agent',
            description: 'Answers chats',
            permissions: ['Get:Conversation', 'Get:OrganizationMember', 'Get:Contact'],
          },
          // A role shows its permission strings as stored, unknown ones included; they grant nothing.
          {
            id: globalId('OrganizationRole', viewer.id),
            name: 'Viewer',
            description: null,
            permissions: ['Get:Contact', 'Get:Tag', 'Not:APermission'],
          },
        ],
      },
      organization: {
        id: globalId('Organization', org.id),
        name: 'Viewer Org',
        createdAt: organization.createdAt.toISOString(),
      },
      permissions: ['Get:Contact', 'Get:Conversation', 'Get:OrganizationMember', 'Get:Tag'],
    });
  });

  it('of an owner holds every permission; of a member without roles, none', async () => {
    const org = await createOrganization(client.db);
    const lonely = await createMember(client.db, org.id);
    const owner = dataOf(
      await client.gql(`{ viewer { permissions member { accessLevel roles { id } } } }`, {}, { as: org.owner }),
    );
    expect(owner.viewer).toEqual({ permissions: [...PERMISSIONS].sort(), member: { accessLevel: 'OWNER', roles: [] } });
    const none = dataOf(
      await client.gql(`{ viewer { permissions member { accessLevel roles { id } } } }`, {}, { as: lonely }),
    );
    expect(none.viewer).toEqual({ permissions: [], member: { accessLevel: 'MEMBER', roles: [] } });
  });
});

describe('members', () => {
  it('lists the organization’s members, oldest first, each with its roles', async () => {
    const org = await createOrganization(client.db);
    await client.db.prisma.organizationMember.update({ where: { id: org.owner.id }, data: { createdAt: at(0) } });
    const { member, agent, viewer } = await memberWithRoles(org);
    await client.db.prisma.organizationMember.update({ where: { id: member.id }, data: { createdAt: at(1) } });
    const data = dataOf(
      await client.gql(`{ members { totalCount nodes { id name accessLevel roles { name } } } }`, {}, { as: member }),
    );
    expect(data.members).toEqual({
      totalCount: 2,
      nodes: [
        { id: globalId('OrganizationMember', org.owner.id), name: org.owner.name, accessLevel: 'OWNER', roles: [] },
        {
          id: globalId('OrganizationMember', member.id),
          name: 'Sam Support',
          accessLevel: 'MEMBER',
          roles: [{ name: agent.name }, { name: viewer.name }],
        },
      ],
    });
  });

  it('loads the roles of a page of members with the page, for 5 members as for 50', async () => {
    const org = await createOrganization(client.db);
    for (let index = 0; index < 55; index++) await createMember(client.db, org.id, { permissions: ['Get:Contact'] });
    const counts = [];
    for (const first of [5, 50]) {
      const response = await client.gqlWithSql(
        `query($first: Int) { members(first: $first) { nodes { roles { permissions } } } }`,
        { first },
        { as: org.owner },
      );
      expect(dataOf(response).members.nodes).toHaveLength(first);
      // Every member has its one role; the owner (at most one on the page) has none.
      const roleCounts = dataOf(response).members.nodes.map((node: { roles: unknown[] }) => node.roles.length);
      expect(roleCounts.filter((count: number) => count === 1).length).toBeGreaterThanOrEqual(first - 1);
      counts.push(response.statements.length);
    }
    // The key, the page, its members with their roles joined in.
    expect(counts).toEqual([3, 3]);
  });
});

describe('Organization and OrganizationRole as nodes', () => {
  it('resolve by id with their fields', async () => {
    const org = await createOrganization(client.db, 'Node Org');
    const { agent } = await memberWithRoles(org);
    const data = dataOf(
      await client.gql(
        `query($org: ID!, $role: ID!) {
          org: node(id: $org) { __typename ... on Organization { id name } }
          role: node(id: $role) { __typename ... on OrganizationRole { id name description permissions } }
        }`,
        { org: globalId('Organization', org.id), role: globalId('OrganizationRole', agent.id) },
        { as: org.owner },
      ),
    );
    expect(data).toEqual({
      org: { __typename: 'Organization', id: globalId('Organization', org.id), name: 'Node Org' },
      role: {
        __typename: 'OrganizationRole',
        id: globalId('OrganizationRole', agent.id),
        name: 'Agent',
        description: 'Answers chats',
        permissions: ['Get:Conversation', 'Get:OrganizationMember', 'Get:Contact'],
      },
    });
  });
});

// Campaign: its fields, the root `campaigns` connection's status filter, and Conversation.campaign.
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestClient, globalId, type TestClient } from './helpers/client.js';
import { dataOf, rawIds } from './helpers/connections.js';
import { at, createCampaign, createContact, createConversation, createOrganization } from './helpers/factories.js';

let client: TestClient;

beforeAll(async () => {
  client = await createTestClient();
});

const STATUSES = ['DRAFT', 'SCHEDULED', 'RUNNING', 'PAUSED', 'FINISHED', 'CANCELLED'] as const;

describe('Campaign', () => {
  it('exposes its fields', async () => {
    const org = await createOrganization(client.db);
    const campaign = await createCampaign(client.db, org.id, {
      name: 'Black Friday',
      description: '30% off everything',
      status: 'SCHEDULED',
      createdAt: at(7),
    });
    const bare = await createCampaign(client.db, org.id, { name: 'Bare' });
    const query = `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Campaign { id name description status createdAt } } }`;
    const data = dataOf(
      await client.gql(
        query,
        { ids: [globalId('Campaign', campaign.id), globalId('Campaign', bare.id)] },
        { as: org.owner },
      ),
    );
    expect(data.nodes).toEqual([
      {
        id: globalId('Campaign', campaign.id),
        name: 'Black Friday',
        description: '30% off everything',
        status: 'SCHEDULED',
        createdAt: '2026-01-01T00:00:07.000Z',
      },
      {
        id: globalId('Campaign', bare.id),
        name: 'Bare',
        description: null,
        status: 'DRAFT',
        createdAt: bare.createdAt.toISOString(),
      },
    ]);
  });

  it('is the campaign of the conversations it started, and null for the others', async () => {
    const org = await createOrganization(client.db);
    const campaign = await createCampaign(client.db, org.id, { name: 'Welcome', status: 'RUNNING' });
    const contact = await createContact(client.db, org.id);
    await createConversation(client.db, org.id, {
      contactId: contact.id,
      campaignId: campaign.id,
      initiatedBy: 'CAMPAIGN',
      createdAt: at(1),
    });
    await createConversation(client.db, org.id, { contactId: contact.id, createdAt: at(2) });
    const data = dataOf(
      await client.gql(
        `{ conversations { nodes { initiatedBy campaign { id name status } } } }`,
        {},
        { as: org.owner },
      ),
    );
    expect(data.conversations.nodes).toEqual([
      {
        initiatedBy: 'CAMPAIGN',
        campaign: { id: globalId('Campaign', campaign.id), name: 'Welcome', status: 'RUNNING' },
      },
      { initiatedBy: 'CONTACT', campaign: null },
    ]);
  });
});

describe('campaigns(status:)', () => {
  it('lists the campaigns with any of the given statuses, oldest first', async () => {
    const org = await createOrganization(client.db);
    const campaigns = [];
    for (const [index, status] of STATUSES.entries())
      campaigns.push(await createCampaign(client.db, org.id, { status, createdAt: at(10 - index) }));
    const byStatus = Object.fromEntries(campaigns.map((campaign) => [campaign.status, campaign.id]));
    const campaignsWith = async (status?: string[]) => {
      const data = dataOf(
        await client.gql(
          `query($status: [CampaignStatus!]) { campaigns(status: $status) { totalCount nodes { id status } } }`,
          { status },
          { as: org.owner },
        ),
      );
      expect(data.campaigns.totalCount).toBe(data.campaigns.nodes.length);
      return rawIds(data.campaigns);
    };
    // Created newest status first: CANCELLED is the oldest.
    expect(await campaignsWith()).toEqual(campaigns.map((campaign) => campaign.id).reverse());
    expect(await campaignsWith(['RUNNING'])).toEqual([byStatus.RUNNING]);
    expect(await campaignsWith(['RUNNING', 'FINISHED', 'DRAFT'])).toEqual([
      byStatus.FINISHED,
      byStatus.RUNNING,
      byStatus.DRAFT,
    ]);
    for (const status of STATUSES) expect(await campaignsWith([status])).toEqual([byStatus[status]]);
  });
});

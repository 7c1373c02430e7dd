// WhatsApp channels outside a member's request: the webhook finds a channel by what Meta
// sends (a verify token, a phone-number id) before any organization is known, so these read
// through the root client, and only CONNECTED channels answer. Also where the channels'
// secrets are sealed (src/secrets.ts) and re-sealed after a key rotation.
import type { PrismaClient } from '../generated/prisma/client.js';
import { fingerprint, type SecretBox, SecretError } from '../secrets.js';

export const CHANNEL_SECRETS = ['accessToken', 'appSecret', 'verifyToken'] as const;
export type ChannelSecretName = (typeof CHANNEL_SECRETS)[number];

/** Where a sealed secret belongs: a value sealed for one channel or column does not open in another. */
export function secretContext(channelId: string, secret: ChannelSecretName): string {
  return `WhatsAppChannel.${secret}:${channelId}`;
}

/** The columns that store a channel's secrets, sealed, with their fingerprints (and the verify token's digest). */
export interface SealedChannelSecrets {
  accessTokenSealed?: string;
  accessTokenFingerprint?: string;
  appSecretSealed?: string;
  appSecretFingerprint?: string;
  verifyTokenSealed?: string;
  verifyTokenFingerprint?: string;
  verifyTokenDigest?: string;
}

/** The columns that store the `secrets` given (those not given are not in the result). */
export function sealChannelSecrets(
  box: SecretBox,
  channelId: string,
  secrets: Partial<Record<ChannelSecretName, string>>,
): SealedChannelSecrets {
  const columns: SealedChannelSecrets = {};
  const seal = (secret: ChannelSecretName, value: string) => box.seal(value, secretContext(channelId, secret));
  if (secrets.accessToken !== undefined) {
    columns.accessTokenSealed = seal('accessToken', secrets.accessToken);
    columns.accessTokenFingerprint = fingerprint(secrets.accessToken);
  }
  if (secrets.appSecret !== undefined) {
    columns.appSecretSealed = seal('appSecret', secrets.appSecret);
    columns.appSecretFingerprint = fingerprint(secrets.appSecret);
  }
  if (secrets.verifyToken !== undefined) {
    columns.verifyTokenSealed = seal('verifyToken', secrets.verifyToken);
    columns.verifyTokenFingerprint = fingerprint(secrets.verifyToken);
    columns.verifyTokenDigest = box.digest(secrets.verifyToken);
  }
  return columns;
}

/** The columns of a new channel's secrets: the app secret and verify token are required. */
export function sealNewChannelSecrets(
  box: SecretBox,
  channelId: string,
  secrets: { accessToken?: string | undefined; appSecret: string; verifyToken: string },
) {
  const { accessToken, appSecret, verifyToken } = secrets;
  return {
    ...sealChannelSecrets(box, channelId, accessToken === undefined ? {} : { accessToken }),
    appSecretSealed: box.seal(appSecret, secretContext(channelId, 'appSecret')),
    appSecretFingerprint: fingerprint(appSecret),
    verifyTokenSealed: box.seal(verifyToken, secretContext(channelId, 'verifyToken')),
    verifyTokenFingerprint: fingerprint(verifyToken),
    verifyTokenDigest: box.digest(verifyToken),
  };
}

/** Whether a CONNECTED channel (of any organization) has this webhook verify token. */
export async function isVerifyTokenOfConnectedChannel(
  prisma: PrismaClient,
  box: SecretBox,
  token: string,
): Promise<boolean> {
  const candidates = await prisma.whatsAppChannel.findMany({
    where: { verifyTokenDigest: { in: box.digests(token) }, status: 'CONNECTED' },
    select: { id: true, verifyTokenSealed: true },
    take: 10,
  });
  // The digest finds the rows; opening the sealed token confirms (a digest under a previous
  // key is only trusted once the value it stands for is the one sent).
  return candidates.some((channel) => {
    try {
      return box.open(channel.verifyTokenSealed, secretContext(channel.id, 'verifyToken')) === token;
    } catch {
      return false;
    }
  });
}

export interface DeliveryChannel {
  channelId: string;
  organizationId: string;
  /** The key of the deliveries' X-Hub-Signature-256 (HMAC-SHA256 of the raw body). */
  appSecret: string;
}

/**
 * The CONNECTED channel that Meta's `metadata.phone_number_id` names, with its organization
 * and its app secret opened; null for an unknown or disconnected phone-number id. A
 * SecretError when no configured key opens its app secret (see resealChannels).
 */
export async function channelForDelivery(
  prisma: PrismaClient,
  box: SecretBox,
  phoneNumberId: string,
): Promise<DeliveryChannel | null> {
  const channel = await prisma.whatsAppChannel.findUnique({
    where: { phoneNumberId },
    select: { id: true, organizationId: true, status: true, appSecretSealed: true },
  });
  if (channel?.status !== 'CONNECTED') return null;
  return {
    channelId: channel.id,
    organizationId: channel.organizationId,
    appSecret: box.open(channel.appSecretSealed, secretContext(channel.id, 'appSecret')),
  };
}

/**
 * Re-seals every channel secret that an older key sealed (after SECRETS_KEY was rotated and
 * the old key set as SECRETS_KEY_PREVIOUS), and recomputes the verify tokens' digests.
 * Each channel is one update guarded by its previous values, so two processes re-sealing
 * at once do not overwrite each other's work with stale values. A channel whose secrets no
 * configured key opens is left as it is and reported in `unreadable` (its webhook fails
 * until the key that sealed it is configured, or the channel is connected again).
 */
export async function resealChannels(
  prisma: PrismaClient,
  box: SecretBox,
): Promise<{ resealed: number; unreadable: string[] }> {
  const prefix = `v1.${box.keyId}.`;
  const stale = await prisma.whatsAppChannel.findMany({
    where: {
      OR: [
        { appSecretSealed: { not: { startsWith: prefix } } },
        { verifyTokenSealed: { not: { startsWith: prefix } } },
        { AND: [{ accessTokenSealed: { not: null } }, { accessTokenSealed: { not: { startsWith: prefix } } }] },
      ],
    },
    select: { id: true, accessTokenSealed: true, appSecretSealed: true, verifyTokenSealed: true },
    orderBy: { id: 'asc' },
  });
  let resealed = 0;
  const unreadable: string[] = [];
  for (const channel of stale) {
    let data;
    try {
      const verifyToken = box.open(channel.verifyTokenSealed, secretContext(channel.id, 'verifyToken'));
      data = {
        appSecretSealed: box.reseal(channel.appSecretSealed, secretContext(channel.id, 'appSecret')),
        verifyTokenSealed: box.reseal(channel.verifyTokenSealed, secretContext(channel.id, 'verifyToken')),
        verifyTokenDigest: box.digest(verifyToken),
        accessTokenSealed:
          channel.accessTokenSealed && box.reseal(channel.accessTokenSealed, secretContext(channel.id, 'accessToken')),
      };
    } catch (error) {
      if (!(error instanceof SecretError)) throw error;
      unreadable.push(channel.id);
      continue;
    }
    const { count } = await prisma.whatsAppChannel.updateMany({
      where: {
        id: channel.id,
        appSecretSealed: channel.appSecretSealed,
        verifyTokenSealed: channel.verifyTokenSealed,
        accessTokenSealed: channel.accessTokenSealed,
      },
      data,
    });
    resealed += count;
  }
  return { resealed, unreadable };
}

/**
 * channelForDelivery for several phone-number ids at once (one statement): the CONNECTED
 * channels among them, by phone-number id. Ids of no connected channel are absent.
 */
export async function channelsForDelivery(
  prisma: PrismaClient,
  box: SecretBox,
  phoneNumberIds: readonly string[],
): Promise<Map<string, DeliveryChannel>> {
  const channels = await prisma.whatsAppChannel.findMany({
    where: { phoneNumberId: { in: [...phoneNumberIds] }, status: 'CONNECTED' },
    select: { id: true, organizationId: true, phoneNumberId: true, appSecretSealed: true },
  });
  return new Map(
    channels.map((channel) => [
      channel.phoneNumberId,
      {
        channelId: channel.id,
        organizationId: channel.organizationId,
        appSecret: box.open(channel.appSecretSealed, secretContext(channel.id, 'appSecret')),
      },
    ]),
  );
}

// The media object of an inbound image, audio, video, document or sticker, read from the
// message's data as Meta sent it (`{ "image": { "id", "mime_type", "sha256", "caption" } }`):
// what Message.media shows and what GET /media/{messageId} fetches by its `id`.
import type { MessageType } from '../generated/prisma/enums.js';

/** Where the gateway serves media files (src/plugins/media.ts). */
export const MEDIA_PATH_PREFIX = '/media/';

/** The path of a message's media file on the gateway: `/media/{global id}`. */
export function mediaPath(messageGlobalId: string): string {
  return `${MEDIA_PATH_PREFIX}${encodeURIComponent(messageGlobalId)}`;
}

/** The key of Meta's media object in a message of each media type. */
export const MEDIA_KEYS: Readonly<Partial<Record<MessageType, string>>> = {
  IMAGE: 'image',
  AUDIO: 'audio',
  VIDEO: 'video',
  DOCUMENT: 'document',
  STICKER: 'sticker',
};

export interface MediaObject {
  /** Meta's media id, for `GET {WHATSAPP_API_URL}/{id}`; null when Meta sent none. */
  id: string | null;
  mimeType: string | null;
  sha256: string | null;
  fileName: string | null;
  caption: string | null;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const stringOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** The media object of a message, or null when it is not a media message (or its data holds none). */
export function mediaOf(messageType: MessageType, data: unknown): MediaObject | null {
  const key = MEDIA_KEYS[messageType];
  if (key === undefined || !isObject(data)) return null;
  const media = data[key];
  if (!isObject(media)) return null;
  return {
    id: stringOrNull(media.id),
    mimeType: stringOrNull(media.mime_type),
    sha256: stringOrNull(media.sha256),
    fileName: stringOrNull(media.filename),
    caption: stringOrNull(media.caption),
  };
}

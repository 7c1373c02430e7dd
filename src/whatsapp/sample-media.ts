// The files of the simulator's media messages (src/whatsapp/simulator.ts), under fixed media
// ids: the fake Cloud API that `npm start` runs for the demo channel holds them, so that
// `GET /media/{messageId}` of a simulated message answers a real file, whichever simulator
// (in-process or `npm run simulate`) sent it. The image (a PNG drawn here), the sticker (WebP),
// the document (PDF) and the voice note (WAV) open in a browser; the video is a placeholder
// of a few bytes, labelled video/mp4 (no MP4 encoder here).
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import type { MediaOptions, MediaType } from './meta-payloads.js';

export interface SampleMedia {
  id: string;
  type: MediaType;
  mimeType: string;
  bytes: Uint8Array;
  filename?: string;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A width × height RGB PNG whose pixels `color(x, y)` gives. */
function png(width: number, height: number, color: (x: number, y: number) => [number, number, number]): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits per channel, RGB, no interlace
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y += 1) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x += 1) raw.set(color(x, y), row + 1 + x * 3);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A parcel on a table: brown box, darker tape, a light background. */
function parcelPhoto(): Buffer {
  return png(160, 120, (x, y) => {
    const inBox = x >= 40 && x < 120 && y >= 30 && y < 100;
    if (inBox && (Math.abs(x - 80) < 5 || Math.abs(y - 50) < 4)) return [150, 110, 60];
    if (inBox) return [196, 150, 96];
    return [230 - (y >> 2), 235 - (y >> 2), 240];
  });
}

/** A one-page PDF saying `text`, with its cross-reference table computed. */
function pdf(text: string): Buffer {
  const content = `BT /F1 18 Tf 72 720 Td (${text}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  for (const [index, object] of objects.entries()) {
    offsets.push(out.length);
    out += `${index + 1} 0 obj\n${object}\nendobj\n`;
  }
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) out += `${String(offset).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** Half a second of a 440 Hz tone, 8 kHz mono 8-bit PCM. */
function toneWav(): Buffer {
  const rate = 8_000;
  const samples = rate / 2;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + samples, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate, 28);
  header.writeUInt16LE(1, 32);
  header.writeUInt16LE(8, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(samples, 40);
  const data = Buffer.alloc(samples);
  for (let i = 0; i < samples; i += 1) data[i] = 128 + Math.round(60 * Math.sin((2 * Math.PI * 440 * i) / rate));
  return Buffer.concat([header, data]);
}

/** A 1×1 lossless WebP. */
const STICKER = Buffer.from('UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==', 'base64');

/** The samples, by what the simulator sends them as. Built once, on first use. */
let samples: Record<'photo' | 'voiceNote' | 'video' | 'invoice' | 'sticker', SampleMedia> | undefined;

export function sampleMedia() {
  samples ??= {
    photo: { id: '900000000000001', type: 'image', mimeType: 'image/png', bytes: parcelPhoto() },
    voiceNote: { id: '900000000000002', type: 'audio', mimeType: 'audio/wav', bytes: toneWav() },
    video: {
      id: '900000000000003',
      type: 'video',
      mimeType: 'video/mp4',
      bytes: Buffer.from('wagraph sample video placeholder\n'),
    },
    invoice: {
      id: '900000000000004',
      type: 'document',
      mimeType: 'application/pdf',
      bytes: pdf('Invoice 4521 - wagraph sample document'),
      filename: 'invoice-4521.pdf',
    },
    sticker: { id: '900000000000005', type: 'sticker', mimeType: 'image/webp', bytes: STICKER },
  };
  return samples;
}

/** The media object of a sample, as a message carries it (Meta's sha256 is the file's, base64). */
export function sampleMediaOptions(sample: SampleMedia): MediaOptions {
  return {
    id: sample.id,
    mimeType: sample.mimeType,
    sha256: createHash('sha256').update(sample.bytes).digest('base64'),
    ...(sample.filename === undefined ? {} : { filename: sample.filename }),
  };
}

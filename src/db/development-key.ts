// The API key GraphiQL is pre-filled with on a developer's machine (embedded database,
// development only), kept in a file of the data directory so that it works at every start,
// not only the first: the database stores keys only as hashes, so a key not kept here
// cannot be shown again. The file is readable by its owner only (0600), like the database
// files beside it; yoga.ts hands the key to loopback clients only.
import fs from 'node:fs';
import path from 'node:path';
import { newApiKey } from '../auth/api-keys.js';
import type { Database } from './client.js';
import { DEMO_OWNERS } from './seed.js';

export const DEVELOPMENT_KEY_FILE = 'graphiql-key';

function keep(file: string, secret: string): void {
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  // `mode` applies only when the file is created.
  fs.chmodSync(file, 0o600);
}

/**
 * The development key of the first demo owner: `seeded` (the key this start has just
 * seeded), else the kept one if it still works, else a new key minted for that owner.
 * Undefined when the demo organization is not in the database.
 */
export async function keepDevelopmentKey(db: Database, dataDir: string, seeded?: string): Promise<string | undefined> {
  const file = path.join(path.resolve(dataDir), DEVELOPMENT_KEY_FILE);
  if (seeded) {
    keep(file, seeded);
    return seeded;
  }
  let kept: string | undefined;
  try {
    kept = fs.readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    // Not written yet (a database seeded before this file existed, or not seeded at all).
  }
  if (kept) {
    const key = await db.prisma.apiKey.findUnique({ where: { keyHash: newApiKey(kept).keyHash } });
    if (key && key.revokedAt === null) return kept;
  }
  const owner = DEMO_OWNERS[0];
  if (!(await db.prisma.organizationMember.findUnique({ where: { id: owner.memberId } }))) return undefined;
  const key = newApiKey();
  await db.prisma.apiKey.create({
    data: { ...owner, name: 'GraphiQL (local development)', prefix: key.prefix, keyHash: key.keyHash },
  });
  keep(file, key.secret);
  return key.secret;
}

// `npm run secrets:reseal`: after rotating SECRETS_KEY (the new key as SECRETS_KEY, the old
// one as SECRETS_KEY_PREVIOUS), seals every WhatsApp channel secret again under the new key,
// then exits. The server does the same at every start; this is for deploy pipelines, to
// finish a rotation before SECRETS_KEY_PREVIOUS is removed.
import { ConfigError, loadConfig } from '../src/config.js';
import { DatabaseOpenError, openDatabase } from '../src/db/client.js';
import { databaseTarget, secretBox } from '../src/db/setup.js';
import { SecretError } from '../src/secrets.js';
import { resealChannels } from '../src/whatsapp/channels.js';

try {
  const config = loadConfig();
  const db = await openDatabase(databaseTarget(config));
  try {
    const { resealed, unreadable } = await resealChannels(db.prisma, secretBox(config));
    process.stdout.write(
      resealed > 0
        ? `Re-sealed the secrets of ${resealed} WhatsApp channel(s) under the current SECRETS_KEY.\n`
        : 'Nothing to re-seal: every readable secret is sealed under the current SECRETS_KEY.\n',
    );
    if (unreadable.length > 0) {
      process.stderr.write(
        `wagraph: ${unreadable.length} channel(s) sealed under a key that is neither SECRETS_KEY nor SECRETS_KEY_PREVIOUS: ${unreadable.join(', ')}\n`,
      );
      process.exitCode = 1;
    }
  } finally {
    await db.close();
  }
} catch (error) {
  if (error instanceof ConfigError || error instanceof DatabaseOpenError || error instanceof SecretError) {
    process.stderr.write(`wagraph: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

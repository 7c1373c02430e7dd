// Prisma CLI configuration. The CLI runs on its JavaScript schema engine with an
// in-memory PGlite behind it, so that `prisma generate` and `prisma migrate diff` never
// try to download a native engine (with no internet, that fails).
// The CLI never touches a real database: migrations are applied by src/db/migrate.ts.
import path from 'node:path';
import { defineConfig } from 'prisma/config';

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join('prisma', 'schema.prisma'),
  migrations: { path: path.join('prisma', 'migrations') },
  async adapter() {
    const { PGlite } = await import('@electric-sql/pglite');
    const { PrismaPGlite } = await import('pglite-prisma-adapter');
    return new PrismaPGlite(new PGlite());
  },
});

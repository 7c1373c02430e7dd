// `npm run db:diff -- <name>`: writes prisma/migrations/<timestamp>_<name>/migration.sql
// with the SQL that takes the schema of the last commit (or `--from <file>`) to the
// current prisma/schema.prisma. Prisma's `migrate diff` works offline with no database;
// its `migrate dev` does not work here (the JS schema engine fails with driver adapters). Review the file, add what
// Prisma cannot express (expression or partial indexes) by hand, and commit it with the
// schema change.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const args = process.argv.slice(2);
const fromIndex = args.indexOf('--from');
const fromFile = fromIndex >= 0 ? args.splice(fromIndex, 2)[1] : undefined;
const name = args[0];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  process.stderr.write('usage: npm run db:diff -- <name_in_snake_case> [--from <old schema.prisma>]\n');
  process.exit(2);
}

let previous = fromFile;
if (!previous) {
  previous = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wagraph-diff-')), 'schema.prisma');
  fs.writeFileSync(previous, execFileSync('git', ['show', 'HEAD:prisma/schema.prisma'], { encoding: 'utf8' }));
}

const output = execFileSync(
  'npx',
  [
    'prisma',
    'migrate',
    'diff',
    '--from-schema-datamodel',
    previous,
    '--to-schema-datamodel',
    'prisma/schema.prisma',
    '--script',
  ],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
);
const sql = output
  .split('\n')
  .filter((line) => !line.startsWith('Loaded Prisma config'))
  .join('\n')
  .trim();
if (!sql || sql === '-- This is an empty migration.') {
  process.stdout.write('prisma/schema.prisma has no changes against the previous schema: nothing written.\n');
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
const dir = path.join('prisma', 'migrations', `${stamp}_${name}`);
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, 'migration.sql'), `${sql}\n`);
process.stdout.write(`Wrote ${path.join(dir, 'migration.sql')}\n`);

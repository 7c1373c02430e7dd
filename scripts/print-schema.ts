// Prints the schema the code builds to schema.graphql (sorted), or with --check fails when
// the committed file differs from it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { printSchemaFile } from '../src/schema/print.js';

const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'schema.graphql');
const printed = printSchemaFile();

if (process.argv.includes('--check')) {
  const committed = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  if (committed !== printed) {
    process.stderr.write('schema.graphql is not what the code prints: run `npm run schema:print` and commit it.\n');
    process.exit(1);
  }
  process.stdout.write('schema.graphql is up to date.\n');
} else {
  fs.writeFileSync(file, printed);
  process.stdout.write(`Wrote ${path.relative(process.cwd(), file)}\n`);
}

// Where SQL may live (the rule is the header of src/db/tenant-sql.ts): a scan of src/ that
// fails when SQL appears outside the modules allowed to hold it. Pure file reading, no
// database.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Modules that may hold SQL, each with why. A path ending in `/` allows a directory. */
const ALLOWED: Readonly<Record<string, string>> = {
  'src/db/tenant-sql.ts': 'the helper through which request code runs hand-written SQL',
  'src/loaders/': 'batched reads of request code, through the helper',
  'src/db/row-locks.ts': 'row locks of a mutation, through the helper',
  'src/db/contact-insert.ts': 'the bulk contact insert of a mutation, through the helper',
  'src/auth/credential-lookup.ts': 'the exception: authentication reads before there is an organization',
  'src/db/pglite.ts': 'administration: opens the embedded database',
  'src/db/postgres.ts': 'administration: opens PostgreSQL',
  'src/db/migrate.ts': 'administration: migrations',
  'src/db/seed.ts': 'administration: demo data',
  'src/db/health.ts': 'administration: the readiness check',
  'src/db/pglite-pool.ts': "administration: passes graphile-worker's own statements to the embedded database",
  'src/whatsapp/process-batch.ts':
    "set-based processing of a batch of webhook deliveries in the job's transaction, through the helper",
  'src/whatsapp/delivery-insert.ts':
    "the webhook's rows and their processing jobs in one statement, through the helper",
  'src/jobs/enqueue.ts': "a job enqueued in a mutation's transaction (graphile_worker.add_job), through the helper",
  'src/jobs/failed.ts': 'administration: lists parked jobs of every organization for operators',
};

interface SqlFinding {
  line: number;
  what: string;
}

/** The source with comments blanked out, and its string and template literals (with their offsets). */
function lex(source: string): { code: string; literals: { text: string; offset: number }[] } {
  let code = '';
  const literals: { text: string; offset: number }[] = [];
  let index = 0;
  while (index < source.length) {
    const character = source[index]!;
    const next = source[index + 1];
    if (character === '/' && next === '/') {
      const end = source.indexOf('\n', index);
      const stop = end === -1 ? source.length : end;
      code += ' '.repeat(stop - index);
      index = stop;
    } else if (character === '/' && next === '*') {
      const end = source.indexOf('*/', index + 2);
      const stop = end === -1 ? source.length : end + 2;
      code += source.slice(index, stop).replace(/[^\n]/g, ' ');
      index = stop;
    } else if (character === "'" || character === '"' || character === '`') {
      let end = index + 1;
      while (end < source.length && source[end] !== character) end += source[end] === '\\' ? 2 : 1;
      const text = source.slice(index + 1, end);
      literals.push({ text, offset: index });
      code += source.slice(index, end + 1);
      index = end + 1;
    } else {
      code += character;
      index += 1;
    }
  }
  return { code, literals };
}

const CODE_PATTERNS: readonly [RegExp, string][] = [
  [/\bPrisma\.(sql|raw|join|empty)\b/g, 'Prisma.$1'],
  [/\$(queryRaw|executeRaw|queryRawUnsafe|executeRawUnsafe|queryRawTyped)\b/g, '$$$1'],
  // `.query(`/`.exec(` on a session, a database, a pool or a client; not RegExp#exec (`/…/i.exec(`).
  [/(?<!\/[dgimsuy]*)\.(query|exec)\s*(<[^>()]*>)?\(/g, '.$1('],
];

/** An SQL statement in a string: a keyword followed by its clause (SELECT … FROM, UPDATE … SET, …). */
const STATEMENT =
  /\b(SELECT\b[\s\S]*\bFROM|INSERT\s+INTO|UPDATE\s+\S+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX)|ALTER\s+TABLE|DROP\s+TABLE)\b/;

/** Where `source` holds SQL. */
function findSql(source: string): SqlFinding[] {
  const { code, literals } = lex(source);
  const lineOf = (offset: number) => source.slice(0, offset).split('\n').length;
  const findings: SqlFinding[] = [];
  for (const [pattern, label] of CODE_PATTERNS) {
    for (const match of code.matchAll(pattern)) {
      findings.push({ line: lineOf(match.index), what: match[0].replace(pattern, label) });
    }
  }
  for (const literal of literals) {
    const match = STATEMENT.exec(literal.text);
    if (match) findings.push({ line: lineOf(literal.offset), what: `SQL in a string: ${match[1]!.split(/\s+/)[0]}…` });
  }
  return findings.sort((a, b) => a.line - b.line);
}

function sourceFiles(directory: string): string[] {
  return readdirSync(path.join(ROOT, directory), { withFileTypes: true }).flatMap((entry) => {
    const relative = `${directory}/${entry.name}`;
    if (entry.isDirectory()) return relative === 'src/generated' ? [] : sourceFiles(relative);
    return /\.[cm]?ts$/.test(entry.name) ? [relative] : [];
  });
}

function allowed(file: string): boolean {
  return Object.keys(ALLOWED).some((place) => (place.endsWith('/') ? file.startsWith(place) : file === place));
}

describe('where SQL lives', () => {
  it('finds SQL in each form the rule forbids, and nothing in code without SQL', () => {
    const samples: Record<string, string> = {
      'Prisma.sql': 'const s = Prisma.sql`SELECT 1`;',
      'Prisma.raw': 'const table = Prisma.raw(name);',
      $queryRaw: 'await tx.$queryRaw(statement);',
      $executeRawUnsafe: "await db.$executeRawUnsafe('VACUUM');",
      '.query(': 'await database.query<Row>(statement);',
      '.exec(': "await session.exec('BEGIN');",
      'SQL in a string: SELECT…': 'const text = `SELECT "id" FROM "Contact" WHERE x`;',
      'SQL in a string: INSERT…': `const text = 'INSERT INTO "Tag" (label) VALUES ($1)';`,
      'SQL in a string: UPDATE…': 'const text = "UPDATE \\"ApiKey\\" SET x = 1";',
      'SQL in a string: DELETE…': 'const text = `DELETE FROM "Contact"`;',
    };
    for (const [what, sample] of Object.entries(samples)) {
      expect(findSql(sample).map((finding) => finding.what)).toEqual([what]);
    }
    const clean = [
      '// SELECT t.* FROM "Contact" t: comments may talk about SQL',
      '/* db.$queryRaw is refused */',
      "const match = /^Bearer\\s+(\\S+)$/i.exec(header ?? '');",
      "const message = 'Select a contact from the list';",
      'const data: Prisma.ContactUpdateInput = {};',
      'const rows = await ctx.db.contact.findMany({ where });',
    ].join('\n');
    expect(findSql(clean)).toEqual([]);
    expect(findSql('const a = 1;\n\nawait tx.$queryRaw(s);')).toEqual([{ line: 3, what: '$queryRaw' }]);
  });

  it('appears in src/ only in the modules allowed to hold it', () => {
    const misplaced = sourceFiles('src')
      .filter((file) => !allowed(file))
      .flatMap((file) =>
        findSql(readFileSync(path.join(ROOT, file), 'utf8')).map(
          (finding) => `${file}:${finding.line} ${finding.what}`,
        ),
      );
    expect(misplaced).toEqual([]);
  });

  it('lists only modules that exist and hold SQL, so the list cannot hide a stale exception', () => {
    const files = sourceFiles('src');
    for (const place of Object.keys(ALLOWED)) {
      const inPlace = files.filter((file) => (place.endsWith('/') ? file.startsWith(place) : file === place));
      const withSql = inPlace.filter((file) => findSql(readFileSync(path.join(ROOT, file), 'utf8')).length > 0);
      expect(withSql, place).not.toEqual([]);
    }
  });
});

// `npx tsx bench/parse-validate.ts [--max-fields N] [--runs N]`: the CPU time that parsing
// and validating costs for the worst documents that pass every operation limit.
//
// Each shape below is a family of documents of growing size (n); for each, the largest n
// whose document passes every limit (the document size, tokens, fields, depth, aliases,
// directives and page cost, at DEFAULT_LIMITS) is found, and that document is parsed and
// validated against the real schema with the plugins the server runs (useOperationLimits,
// with Yoga's own engine and graphql's specified rules), plus the page-cost rule that runs
// just before execution, with the parse cache off (a cache hit costs nothing). CPU time is
// the process's user + system time for one pass: the first pass over that document (other
// documents have warmed the code by then) and the median and maximum of `--runs` more.
// Some shapes are invalid on purpose (conflicting fields, unused fragments): validation
// does all its work before refusing them, and an attacker does not need a valid document.
//
// `--max-fields 1000000` shows what the field limit saves (the same shapes without it).
import { type DocumentNode, type GraphQLError, parse as graphqlParse, validate as graphqlValidate } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { countFieldSelections } from '../src/plugins/field-count.js';
import { DEFAULT_LIMITS, LIMIT_ERROR_CODE, type OperationLimits, useOperationLimits } from '../src/plugins/limits.js';
import { pageCostRule } from '../src/plugins/page-cost.js';
import { schema } from '../src/schema/index.js';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  if (index === -1) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} needs a positive whole number`);
  return value;
}

const limits: OperationLimits = { ...DEFAULT_LIMITS, maxFields: option('--max-fields', DEFAULT_LIMITS.maxFields) };
const RUNS = option('--runs', 9);

const yoga = createYoga({
  schema,
  logging: false,
  parserAndValidationCache: false,
  plugins: useOperationLimits(limits, { fieldSuggestions: true }),
});

type Outcome = { verdict: 'accepted' } | { verdict: 'limit' | 'invalid'; message: string };

/** One pass as the server makes it: parse, validate, and the page-cost check before execution. */
function check(text: string): Outcome {
  const { parse, validate, schema: enveloped } = yoga.getEnveloped({} as never);
  let document: DocumentNode;
  try {
    document = parse(text);
  } catch (error) {
    return outcomeOf([error as GraphQLError]);
  }
  let errors: readonly GraphQLError[];
  try {
    errors = validate(enveloped, document);
  } catch (error) {
    // graphql-armor's validation rules throw their limit error.
    return outcomeOf([error as GraphQLError]);
  }
  if (errors.length > 0) return outcomeOf(errors);
  return outcomeOf(graphqlValidate(schema, document, [pageCostRule({ maxCost: limits.maxCost, variables: {} })]));
}

function outcomeOf(errors: readonly GraphQLError[]): Outcome {
  if (errors.length === 0) return { verdict: 'accepted' };
  const limit = errors.find(
    (error) => (error.extensions as Record<string, unknown> | undefined)?.['code'] === LIMIT_ERROR_CODE,
  );
  if (limit) return { verdict: 'limit', message: limit.message };
  return { verdict: 'invalid', message: `${errors.length} error(s): ${errors[0]!.message.slice(0, 70)}` };
}

function cpuMs(run: () => void): number {
  const started = process.cpuUsage();
  run();
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000;
}

const repeat = (count: number, make: (index: number) => string) =>
  Array.from({ length: count }, (_, index) => make(index)).join(' ');

interface Shape {
  name: string;
  /** The document of size n; shapes without an n ignore it. */
  document(n: number): string;
  sized?: false;
}

const CONTACT = 'id name phone status createdAt updatedAt attributes';
const MESSAGE = 'id text direction status messageType createdAt messageData whatsAppMessageId';

const SHAPES: Shape[] = [
  {
    name: 'viewer { permissions } repeated (the report)',
    document: (n) => `{ ${repeat(n, () => 'viewer { permissions }')} }`,
  },
  { name: 'one leaf field repeated', document: (n) => `{ viewer { ${repeat(n, () => 'permissions')} } }` },
  {
    name: 'viewer { member { name } } repeated',
    document: (n) => `{ ${repeat(n, () => 'viewer { member { name } }')} }`,
  },
  {
    name: 'n × (viewer with n leaves) (square)',
    document: (n) => `{ ${repeat(n, () => `viewer { ${repeat(n, () => 'permissions')} }`)} }`,
  },
  {
    name: 'wide sub-selection repeated',
    document: (n) =>
      `{ ${repeat(n, () => 'viewer { permissions member { id name email accessLevel createdAt } organization { id name createdAt } }')} }`,
  },
  {
    name: 'repeated field with arguments',
    document: (n) =>
      `{ ${repeat(n, () => 'contacts(first: 1, filter: { search: "abc", status: [ACTIVE], createdAfter: "2020-01-01T00:00:00Z" }) { totalCount }')} }`,
  },
  {
    name: 'conflicting arguments (invalid)',
    document: (n) => `{ ${repeat(n, (index) => `contacts(first: ${(index % 100) + 1}) { totalCount }`)} }`,
  },
  {
    name: 'one fragment spread n times',
    document: (n) => `{ viewer { ${repeat(n, () => '...F')} } } fragment F on Viewer { permissions member { name } }`,
  },
  {
    name: 'n distinct fragments, same fields',
    document: (n) =>
      `{ viewer { ${repeat(n, (index) => `...F${index}`)} } } ${repeat(n, (index) => `fragment F${index} on Viewer { member { name } }`)}`,
  },
  {
    name: 'n distinct one-field fragments',
    document: (n) =>
      `{ viewer { ${repeat(n, (index) => `...F${index}`)} } } ${repeat(n, (index) => `fragment F${index} on Viewer { permissions }`)}`,
  },
  {
    name: 'fragments nested 4 deep, each spread n times',
    document: (n) =>
      `{ viewer { ...F0 } } ${repeat(4, (level) => `fragment F${level} on Viewer { ${repeat(n, () => `...F${level + 1}`)} }`)} fragment F4 on Viewer { permissions }`,
  },
  {
    name: 'inline fragments on an interface',
    document: (n) => `{ node(id: "x") { ${repeat(n, () => '... on Node { id } ... on Contact { id name }')} } }`,
  },
  {
    name: 'unused fragment of repeated fields (invalid)',
    document: (n) =>
      `{ viewer { permissions } } fragment Unused on Query { ${repeat(n, () => 'viewer { permissions }')} }`,
  },
  {
    name: 'many operations sharing a fragment',
    document: (n) =>
      `${repeat(n, (index) => `query Q${index} { ...F }`)} fragment F on Query { viewer { permissions member { id name } } }`,
  },
  {
    name: 'many variables, each used',
    document: (n) =>
      `query(${repeat(n, (index) => `$v${index}: Int`)}) { ${repeat(n, (index) => `contacts(first: $v${index}) { totalCount }`)} }`,
  },
  {
    name: 'directives on repeated fields',
    document: (n) =>
      `query($yes: Boolean!) { ${repeat(n, (index) => `viewer ${index < 50 ? '@include(if: $yes)' : ''} { permissions }`)} }`,
  },
  {
    name: 'distinct fields, connections nested to the depth limit',
    document: (n) =>
      `{ ${repeat(Math.min(n, 16), (index) => `${index === 0 ? '' : `a${index}: `}contacts(first: 2) { nodes { ${CONTACT} conversations(first: 2) { nodes { id status totalMessages messages(first: 2) { nodes { ${MESSAGE} replyTo { ${MESSAGE} } } } } } } }`)} }`,
  },
  {
    name: 'max document bytes of short comments',
    sized: false,
    document: () => `${'#\n'.repeat(Math.floor((limits.maxDocumentBytes - 100) / 2))}{ viewer { permissions } }`,
  },
  {
    name: 'max document bytes of string literal',
    sized: false,
    document: () => `{ contacts(filter: { search: "${'x'.repeat(limits.maxDocumentBytes - 100)}" }) { totalCount } }`,
  },
  {
    name: 'max tokens of aliases and arguments',
    document: (n) =>
      `{ ${repeat(15, (index) => `a${index}: contacts(first: 1, filter: { search: "${index}" }) { totalCount }`)} viewer { permissions } contacts(first: 1) { totalCount nodes { tags(first: 1) { totalCount } } } ${repeat(n, () => 'viewer { organization { id } }')} }`,
  },
];

/** The largest n (up to 4,096) whose document passes every limit, and that document. */
function largestAccepted(shape: Shape): { n: number; text: string; outcome: Outcome } | undefined {
  if (shape.sized === false) {
    const text = shape.document(0);
    const outcome = check(text);
    return outcome.verdict === 'limit' ? undefined : { n: 0, text, outcome };
  }
  const passes = (n: number) => check(shape.document(n)).verdict !== 'limit';
  if (!passes(1)) return undefined;
  let low = 1;
  let high = 2;
  while (high <= 4_096 && passes(high)) {
    low = high;
    high *= 2;
  }
  high = Math.min(high, 4_097);
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (passes(middle)) low = middle;
    else high = middle;
  }
  const text = shape.document(low);
  return { n: low, text, outcome: check(text) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

// Warm the parser, the rules and the schema's lookups on an ordinary document.
for (let index = 0; index < 50; index++)
  check('{ viewer { permissions member { name } } contacts(first: 5) { nodes { id name } } }');

console.log(
  `limits: ${limits.maxDocumentBytes} document bytes, ${limits.maxTokens} tokens, ${limits.maxFields} fields, depth ${limits.maxDepth}, ` +
    `${limits.maxAliases} aliases, ${limits.maxDirectives} directives, cost ${limits.maxCost}; CPU ms per parse + validate + page cost`,
);
console.log(
  '| document (largest n that passes the limits) | n | bytes | fields | outcome | first ms | median ms | max ms |',
);
console.log('| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |');
let worst = 0;
for (const shape of SHAPES) {
  const found = largestAccepted(shape);
  if (!found) {
    console.log(`| ${shape.name} | – | – | – | refused at n = 1 | – | – | – |`);
    continue;
  }
  const fields = countFieldSelections(graphqlParse(found.text));
  const first = cpuMs(() => check(found.text));
  const runs = Array.from({ length: RUNS }, () => cpuMs(() => check(found.text)));
  worst = Math.max(worst, first, ...runs);
  const outcome =
    found.outcome.verdict === 'accepted' ? 'accepted' : `${found.outcome.verdict}: ${found.outcome.message}`;
  console.log(
    `| ${shape.name} | ${shape.sized === false ? '–' : found.n} | ${Buffer.byteLength(found.text)} | ${fields} | ${outcome.replaceAll('|', '\\|')} | ` +
      `${first.toFixed(1)} | ${median(runs).toFixed(1)} | ${Math.max(...runs).toFixed(1)} |`,
  );
}
console.log(`\nworst single pass: ${worst.toFixed(1)} ms of CPU`);

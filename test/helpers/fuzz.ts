// Random GraphQL documents and variables generated from the schema: valid ones, nearly
// valid ones (wrong types, bad ids, hostile strings, huge numbers) and broken ones. The
// generator is seeded, so a failing case can be replayed by its seed.
import {
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  getNamedType,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
} from 'graphql';
import type { SeededRandom } from '../../src/random.js';

export { seededRandom as random } from '../../src/random.js';
type Random = SeededRandom;

const HOSTILE_STRINGS = [
  '',
  ' ',
  'a',
  '%',
  '_',
  '\\',
  "'",
  '"',
  '\'; DROP TABLE "Contact"; --',
  '%_\\%',
  '\u0000',
  '\uffff',
  '\ud800',
  '😀'.repeat(50),
  'x'.repeat(5_000),
  '<script>alert(1)</script>',
  '$' + '{process.env}',
  '../../etc/passwd',
  'null',
  '+14155550123',
  '+1 (415) 555-0123',
  'Robert"); DELETE FROM',
  'ÄÖÜ ß',
  'a'.repeat(256),
];
const INTS = [0, 1, -1, 2, 5, 20, 50, 99, 100, 101, 1_000, -100, 2_147_483_647, -2_147_483_648];

export interface FuzzContext {
  /** Global ids that exist (of the viewer's organization and of another one). */
  ids: readonly string[];
  /** Cursors handed out by the API. */
  cursors: readonly string[];
}

function valueLiteral(type: GraphQLInputType, r: Random, ctx: FuzzContext, depth: number): string {
  if (isNonNullType(type)) return valueLiteral(type.ofType, r, ctx, depth);
  if (r.chance(0.03)) return 'null';
  if (isListType(type)) {
    const count = r.chance(0.05) ? r.int(50, 150) : r.int(0, 3);
    return `[${Array.from({ length: count }, () => valueLiteral(type.ofType, r, ctx, depth + 1)).join(', ')}]`;
  }
  if (isEnumType(type)) return r.chance(0.97) ? r.pick(type.getValues()).name : 'NOT_A_VALUE';
  if (isInputObjectType(type)) {
    if (depth > 4) return '{}';
    const fields = Object.values(type.getFields()).filter((field) => isNonNullType(field.type) || r.chance(0.5));
    return `{ ${fields.map((field) => `${field.name}: ${valueLiteral(field.type, r, ctx, depth + 1)}`).join(', ')} }`;
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case 'Int':
        return String(r.chance(0.95) ? r.pick(INTS) : r.int(-1e6, 1e6));
      case 'Boolean':
        return r.pick(['true', 'false']);
      case 'ID':
        return JSON.stringify(
          r.chance(0.7) && ctx.ids.length > 0
            ? r.pick(ctx.ids)
            : r.pick([...HOSTILE_STRINGS, 'Q29udGFjdDoxMjM=', 'VGFnOm5vdC1hLXV1aWQ=']),
        );
      case 'String':
        return JSON.stringify(r.chance(0.3) && ctx.cursors.length > 0 ? r.pick(ctx.cursors) : r.pick(HOSTILE_STRINGS));
      case 'DateTime':
        return JSON.stringify(
          r.pick(['2026-01-01T00:00:00Z', '2030-12-31T23:59:59.999Z', 'yesterday', '1970-01-01T00:00:00Z', '']),
        );
      case 'JSON':
        return r.pick(['{ city: "Lisbon" }', '[1, 2]', '"text"', '42', '{ nested: { deeper: [true, null] } }', '{}']);
      default:
        return '"?"';
    }
  }
  return 'null';
}

function argumentsOf(args: readonly GraphQLArgument[], r: Random, ctx: FuzzContext): string {
  const chosen = args.filter((arg) => isNonNullType(arg.type) || r.chance(0.4));
  if (chosen.length === 0) return '';
  return `(${chosen.map((arg) => `${arg.name}: ${valueLiteral(arg.type, r, ctx, 0)}`).join(', ')})`;
}

function selection(type: GraphQLNamedType, schema: GraphQLSchema, r: Random, ctx: FuzzContext, depth: number): string {
  if (isLeafType(type)) return '';
  if (isAbstractType(type)) {
    const possible = schema.getPossibleTypes(type);
    const fragments = Array.from({ length: r.int(1, 3) }, () => {
      const object = r.pick(possible);
      return `... on ${object.name} ${selection(object, schema, r, ctx, depth + 1) || '{ __typename }'}`;
    });
    return `{ id __typename ${fragments.join(' ')} }`;
  }
  if (!isObjectType(type)) return '';
  const fields = Object.values((type as GraphQLObjectType).getFields());
  const picked = new Set<GraphQLField<unknown, unknown>>();
  for (let i = r.int(1, 4); i > 0; i--) picked.add(r.pick(fields));
  const parts = [...picked].map((field) => {
    const named = getNamedType(field.type);
    const alias = r.chance(0.1) ? `a${r.int(0, 9)}: ` : '';
    const inner = isLeafType(named)
      ? ''
      : depth >= r.int(2, 5)
        ? '{ __typename }'
        : selection(named, schema, r, ctx, depth + 1);
    return `${alias}${field.name}${argumentsOf(field.args, r, ctx)} ${inner}`;
  });
  return `{ ${parts.join(' ')} }`;
}

/** A random document: mostly well-formed operations over the schema, some broken on purpose. */
export function randomDocument(schema: GraphQLSchema, r: Random, ctx: FuzzContext): string {
  const mutation = r.chance(0.25);
  const root = mutation ? schema.getMutationType()! : schema.getQueryType()!;
  let document = `${mutation ? 'mutation' : 'query'} ${selection(root, schema, r, ctx, 0)}`;
  if (r.chance(0.05)) {
    // Broken on purpose: a cut, a stray brace, an unknown field.
    document = r.pick([
      document.slice(0, r.int(0, document.length)),
      `${document}}`,
      document.replace('{', '{ notAField '),
      document.replace(/\w+/, '$$$'),
    ]);
  }
  return document;
}

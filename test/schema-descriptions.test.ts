import {
  buildSchema,
  type GraphQLNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isIntrospectionType,
  isObjectType,
  isSpecifiedScalarType,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/schema/index.js';

/** The elements of `type` that GraphiQL's docs explorer would show without a description, by coordinate (Type.field(arg:)). */
function undescribed(type: GraphQLNamedType): string[] {
  const missing: string[] = [];
  const check = (coordinate: string, description: string | null | undefined) => {
    if (!description?.trim()) missing.push(coordinate);
  };
  check(type.name, type.description);
  if (isObjectType(type) || isInterfaceType(type)) {
    for (const field of Object.values(type.getFields())) {
      check(`${type.name}.${field.name}`, field.description);
      for (const argument of field.args) check(`${type.name}.${field.name}(${argument.name}:)`, argument.description);
    }
  } else if (isInputObjectType(type)) {
    for (const field of Object.values(type.getFields())) check(`${type.name}.${field.name}`, field.description);
  } else if (isEnumType(type)) {
    for (const value of type.getValues()) check(`${type.name}.${value.name}`, value.description);
  }
  // A union or a scalar has nothing of its own to describe beyond its name, checked above.
  return missing;
}

describe('schema descriptions', () => {
  it('describe every type, field, argument, input field and enum value', () => {
    // graphql's own scalars (String, Int, …) and introspection types are described by graphql.
    const ours = Object.values(schema.getTypeMap()).filter(
      (type) => !isIntrospectionType(type) && !isSpecifiedScalarType(type),
    );
    expect(ours.length).toBeGreaterThan(20);
    expect(ours.flatMap(undescribed)).toEqual([]);
  });

  it('are checked everywhere a client reads one', () => {
    const sample = buildSchema(`
      "Q" type Query { "f" f("a" a: Int, b: Int): E  g(i: I): Int }
      "E" enum E { "X" X Y }
      input I { "x" x: Int y: Int }
    `);
    expect(['Query', 'E', 'I'].flatMap((name) => undescribed(sample.getType(name)!))).toEqual([
      'Query.f(b:)',
      'Query.g',
      'Query.g(i:)',
      'E.Y',
      'I',
      'I.y',
    ]);
  });
});

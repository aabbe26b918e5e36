/**
 * The gateway's schema build against @graphql-tools/schema's makeExecutableSchema, which it
 * replaced: the same schema from the real SDL files and resolver map, every resolver in
 * place, and the same refusals of resolver maps that do not fit the schema.
 */
import { makeExecutableSchema } from '@graphql-tools/schema';
import { buildASTSchema, graphql, isObjectType, lexicographicSortSchema, printSchema, GraphQLScalarType, Kind } from 'graphql';
import { loadTypeDefs } from '../../../schema/index.js';
import { buildResolvers } from '../../../gateway/resolvers.js';
import { routedDomains } from '../../../gateway/manifests.js';
import { executableSchema, mergedTypeDefs } from '../../../gateway/executableSchema.js';

const typeDefs = loadTypeDefs();
const resolvers = buildResolvers(routedDomains);

test('the real schema prints as makeExecutableSchema built it, scalar descriptions included', () => {
  const ours = executableSchema(typeDefs, resolvers);
  const theirs = makeExecutableSchema({ typeDefs, resolvers: resolvers as never });
  expect(printSchema(lexicographicSortSchema(ours))).toBe(printSchema(lexicographicSortSchema(theirs)));
  expect(ours.getType('XName')?.description).toMatch(/HSM component name/);
});

test('every field of the resolver map resolves through its resolver, and the scalars coerce', () => {
  const schema = executableSchema(typeDefs, resolvers);
  for (const [typeName, value] of Object.entries(resolvers)) {
    const type = schema.getType(typeName);
    if (value instanceof GraphQLScalarType) {
      expect((type as GraphQLScalarType).parseValue).toBe(value.parseValue);
      continue;
    }
    if (!isObjectType(type)) throw new Error(`${typeName} is not an object type`);
    for (const [field, resolve] of Object.entries(value)) expect({ field: `${typeName}.${field}`, same: type.getFields()[field]?.resolve === resolve }).toEqual({ field: `${typeName}.${field}`, same: true });
  }
  expect(() => (schema.getType('MAC') as GraphQLScalarType).parseValue('AA-BB-CC-DD-EE-FF')).not.toThrow();
  expect((schema.getType('MAC') as GraphQLScalarType).parseValue('AA-BB-CC-DD-EE-FF')).toBe('aa:bb:cc:dd:ee:ff');
  expect(() => (schema.getType('MAC') as GraphQLScalarType).parseValue('not a mac')).toThrow();
});

test('a type opened again in another file adds its fields; a field defined twice is refused', async () => {
  const doc = mergedTypeDefs(['"The root." type Query { a: String }', 'type Query { b: String } extend type Query { c: String }', 'type Other { x: Int }']);
  expect(doc.definitions.map((d) => d.kind)).toEqual([Kind.OBJECT_TYPE_DEFINITION, Kind.OBJECT_TYPE_EXTENSION, Kind.OBJECT_TYPE_EXTENSION, Kind.OBJECT_TYPE_DEFINITION]);
  const schema = executableSchema(['"The root." type Query { a: String }', 'type Query { b: String }'], { Query: { a: () => 'A', b: () => 'B' } });
  expect(schema.getQueryType()?.description).toBe('The root.');
  expect(await graphql({ schema, source: '{ a b }' })).toEqual({ data: { a: 'A', b: 'B' } });
  expect(() => executableSchema(['type Query { a: String }', 'type Query { a: String }'], {})).toThrow(/Field "Query.a" can only be defined once/);
});

test('resolvers for a type or field the schema lacks are refused at build, as makeExecutableSchema refuses them', () => {
  const sdl = ['type Query { a: String }', 'scalar S'];
  expect(() => executableSchema(sdl, { Nope: { a: () => 1 } })).toThrow(/type Nope/);
  expect(() => executableSchema(sdl, { Query: { b: () => 1 } })).toThrow(/Query\.b/);
  expect(() => executableSchema(sdl, { S: { a: () => 1 } })).toThrow(/S is a scalar/);
  expect(() => makeExecutableSchema({ typeDefs: sdl, resolvers: { Query: { b: () => 1 } } })).toThrow(/Query\.b/);
});

test('the repository SDL passes validation, which the Lambda entry skips at init (assumeValidSDL)', () => {
  // buildASTSchema validates the SDL unless told otherwise.
  expect(() => buildASTSchema(mergedTypeDefs(typeDefs))).not.toThrow();
  // What the skipped validation would have caught: a directive graphql-js does not know.
  const invalid = ['type Query { a: String @nope }'];
  expect(() => executableSchema(invalid, {})).toThrow(/Unknown directive "@nope"/);
  expect(printSchema(executableSchema(invalid, {}, { assumeValidSDL: true }))).toMatch(/a: String/);
  // Skipping validation changes nothing for valid SDL.
  expect(printSchema(executableSchema(typeDefs, resolvers, { assumeValidSDL: true }))).toBe(printSchema(executableSchema(typeDefs, resolvers)));
});

/**
 * The gateway's schema from its SDL files and resolver map, with graphql-js alone. It replaces
 * @graphql-tools/schema's makeExecutableSchema, which built the schema three times over
 * (merging the type definitions into one document, building it, then copying every type to
 * attach resolvers): about a third of the gateway Lambda's init. Here the files are parsed
 * once, built once, and the resolvers are set on the built types in place.
 *
 * The files may each open `type Query` / `type Mutation` (or any object type) again, as they
 * did under makeExecutableSchema: a repeated object type definition is read as an extension of
 * the first, so its fields add up, and graphql-js still refuses a field defined twice.
 */
import {
  Kind,
  buildASTSchema,
  isObjectType,
  isScalarType,
  parse,
  type DefinitionNode,
  type DocumentNode,
  type GraphQLFieldResolver,
  type GraphQLScalarType,
  type GraphQLSchema,
} from 'graphql';

// `never`: any source, context and argument types; graphql-js calls them with what the schema gives.
export type FieldResolvers = Record<string, GraphQLFieldResolver<never, never, never>>;
export type SchemaResolvers = Record<string, FieldResolvers | GraphQLScalarType>;

/**
 * One document of all files, each repeated object type definition turned into an extension.
 * Parsed without source locations: they only serve SDL error messages, and keeping them (with
 * the token chain they hold) was most of the garbage the gateway's init collected.
 */
export function mergedTypeDefs(typeDefs: readonly string[]): DocumentNode {
  const defined = new Set<string>();
  const definitions: DefinitionNode[] = [];
  for (const source of typeDefs) {
    for (const def of parse(source, { noLocation: true }).definitions) {
      if (def.kind === Kind.OBJECT_TYPE_DEFINITION && defined.has(def.name.value)) {
        // An extension carries no description; the first definition's stays the type's.
        const { description: _d, ...rest } = def;
        definitions.push({ ...rest, kind: Kind.OBJECT_TYPE_EXTENSION });
        continue;
      }
      if ('name' in def && def.name && def.kind !== Kind.OBJECT_TYPE_EXTENSION) defined.add(def.name.value);
      definitions.push(def);
    }
  }
  return { kind: Kind.DOCUMENT, definitions };
}

function attachScalar(target: GraphQLScalarType, impl: GraphQLScalarType): void {
  // The implementation's coercion and its description (the SDL's scalars are bare declarations).
  target.serialize = impl.serialize;
  target.parseValue = impl.parseValue;
  target.parseLiteral = impl.parseLiteral;
  target.description = impl.description ?? target.description;
  target.specifiedByURL = impl.specifiedByURL ?? target.specifiedByURL;
  target.extensions = { ...target.extensions, ...impl.extensions };
}

export interface ExecutableSchemaOptions {
  /**
   * Skip graphql-js's SDL validation (duplicate or unknown names, misplaced directives). Only
   * for SDL already validated: the Lambda's files are the repository's schema/*.graphql, copied
   * at bundling, which every local and test gateway builds with validation on.
   */
  assumeValidSDL?: boolean;
}

/** Every resolver must name a type and field of the schema: a typo is an error at start, not a null at run time. */
export function executableSchema(typeDefs: readonly string[], resolvers: SchemaResolvers, opts: ExecutableSchemaOptions = {}): GraphQLSchema {
  const schema = buildASTSchema(mergedTypeDefs(typeDefs), { assumeValidSDL: opts.assumeValidSDL ?? false });
  for (const [typeName, value] of Object.entries(resolvers)) {
    const type = schema.getType(typeName);
    if (!type) throw new Error(`resolvers name type ${typeName}, which the schema does not define`);
    if (isScalarType(type)) {
      if (!isScalarType(value)) throw new Error(`${typeName} is a scalar: its resolver must be a GraphQLScalarType`);
      attachScalar(type, value);
      continue;
    }
    if (!isObjectType(type) || isScalarType(value)) throw new Error(`resolvers for ${typeName}: only object types' fields and scalars are resolved here`);
    const fields = type.getFields();
    for (const [fieldName, resolve] of Object.entries(value)) {
      const field = fields[fieldName];
      if (!field) throw new Error(`resolvers name ${typeName}.${fieldName}, which the schema does not define`);
      field.resolve = resolve as GraphQLFieldResolver<unknown, unknown>;
    }
  }
  return schema;
}

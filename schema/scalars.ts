/**
 * Custom scalars. Each parses through the same validator the domains and the agent use,
 * so a bad value is refused at the edge with the reason, and stored values are normalised.
 */
import { GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { BadUserInputError } from './errors.js';
import { normaliseXName } from './xname.js';
import { normaliseMac } from './mac.js';
import { normaliseIPv4, parseCidr } from './ip.js';

function stringScalar(name: string, description: string, normalise: (raw: string) => string): GraphQLScalarType {
  const parse = (value: unknown): string => {
    if (typeof value !== 'string') throw new BadUserInputError(name, `expected a string, got ${typeof value}`);
    return normalise(value);
  };
  return new GraphQLScalarType({
    name,
    description,
    serialize: (value) => String(value),
    parseValue: parse,
    parseLiteral: (ast: ValueNode) => {
      if (ast.kind !== Kind.STRING) throw new BadUserInputError(name, `expected a string literal, got ${ast.kind}`);
      return parse(ast.value);
    },
  });
}

export const XNameScalar = stringScalar('XName', 'HSM component name, normalised (lower case, no leading zeros).', (v) => normaliseXName(v, 'XName'));
export const MACScalar = stringScalar('MAC', 'MAC address in any common notation; returned as lower-case aa:bb:cc:dd:ee:ff.', (v) => normaliseMac(v, 'MAC'));
export const IPv4Scalar = stringScalar('IPv4', 'Dotted-quad IPv4 address.', (v) => normaliseIPv4(v, 'IPv4'));
export const CIDRScalar = stringScalar('CIDR', 'IPv4 block a.b.c.d/len.', (v) => {
  const c = parseCidr(v, 'CIDR');
  return `${c.network}/${c.prefix}`;
});
export const DateTimeScalar = stringScalar('DateTime', 'RFC 3339 timestamp in UTC.', (v) => {
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new BadUserInputError('DateTime', `"${v}" is not an RFC 3339 timestamp`);
  return new Date(t).toISOString();
});

function jsonLiteral(ast: ValueNode): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map(jsonLiteral);
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, jsonLiteral(f.value)]));
    default:
      throw new BadUserInputError('JSON', `variables are not allowed inside a JSON literal`);
  }
}

export const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  description: 'Arbitrary JSON value.',
  serialize: (v) => v,
  parseValue: (v) => v,
  parseLiteral: jsonLiteral,
});

export const scalarResolvers = {
  XName: XNameScalar,
  MAC: MACScalar,
  IPv4: IPv4Scalar,
  CIDR: CIDRScalar,
  DateTime: DateTimeScalar,
  JSON: JSONScalar,
};

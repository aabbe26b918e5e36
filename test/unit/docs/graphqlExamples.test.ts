/**
 * Every GraphQL example in the docs is a document the gateway's schema accepts: it parses, and
 * each operation in it passes graphql-js's validation (fields, arguments, input fields, enum
 * values, literal scalars such as XName) as the gateway would run it. A block may hold several
 * operations one after the other; each is checked alone, with the fragments it uses. This is
 * validation, not execution: ids in the examples are placeholders.
 */
import { readFileSync } from 'node:fs';
import { Kind, NoUnusedFragmentsRule, parse, specifiedRules, validate, type DocumentNode } from 'graphql';
import { buildSchema } from '../../../gateway/server.js';

const FILES = ['docs/graphql.md', 'docs/agent.md', 'docs/orchestration.md', 'README.md'];

interface Example {
  where: string;
  source: string;
}

function examples(): Example[] {
  return FILES.flatMap((file) => {
    const text = readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8');
    return [...text.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => ({
      where: `${file}:${text.slice(0, m.index).split('\n').length + 1}`,
      source: m[1]!,
    }));
  });
}

/** Each operation of a block as a document of its own, with all of the block's fragments. */
function operations(doc: DocumentNode): DocumentNode[] {
  const fragments = doc.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
  return doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION).map((op) => ({ kind: Kind.DOCUMENT, definitions: [op, ...fragments] }));
}

// A fragment another operation of the block uses is not unused.
const RULES = specifiedRules.filter((r) => r !== NoUnusedFragmentsRule);

describe('GraphQL examples in the docs', () => {
  const schema = buildSchema();
  const all = examples();

  it('finds the examples (a moved heading or fence would hide them)', () => {
    expect(all.length).toBeGreaterThanOrEqual(70);
  });

  it('parse, and every operation validates against the schema', () => {
    const problems: string[] = [];
    for (const ex of all) {
      let doc: DocumentNode;
      try {
        doc = parse(ex.source);
      } catch (err) {
        problems.push(`${ex.where}: ${(err as Error).message}`);
        continue;
      }
      for (const op of operations(doc)) {
        for (const e of validate(schema, op, RULES)) problems.push(`${ex.where}: ${e.message}`);
      }
    }
    expect(problems).toEqual([]);
  });
});

import { readFileSync } from 'node:fs';
import { buildSchema } from '../../../gateway/server.js';
import { graphqlDoc } from '../../../tools/graphqlDoc.js';

describe('docs/graphql.md', () => {
  const doc = readFileSync(new URL('../../../docs/graphql.md', import.meta.url), 'utf8');

  it('is assembled from docs/graphql/*.md (run `npm run docs:graphql`)', () => {
    expect(doc).toBe(graphqlDoc());
  });

  it('documents every query and mutation with an example that calls it', () => {
    const schema = buildSchema();
    const fields = [schema.getQueryType()!, schema.getMutationType()!].flatMap((t) => Object.keys(t.getFields()));
    // An example is a graphql code block that calls the field: `name(` or `name {`.
    const blocks = [...doc.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!).join('\n');
    const missing = fields.filter((f) => !new RegExp(`\\b${f}\\s*[({]`).test(blocks));
    expect(missing).toEqual([]);
  });
});

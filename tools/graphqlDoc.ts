/** Assembles docs/graphql.md from docs/graphql/*.md (in name order). */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

const dir = new URL('../docs/graphql/', import.meta.url);
export function graphqlDoc(): string {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => readFileSync(new URL(f, dir), 'utf8').trim())
    .join('\n\n---\n\n')
    .concat('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  writeFileSync(new URL('../docs/graphql.md', import.meta.url), graphqlDoc());
}

/** Writes docs/authorization.md from the domain manifests. */
import { writeFileSync } from 'node:fs';
import { authorizationMarkdown } from '../gateway/authorization.js';
import { domains } from '../gateway/domains.js';

writeFileSync(new URL('../docs/authorization.md', import.meta.url), authorizationMarkdown(domains));

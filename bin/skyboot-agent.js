#!/usr/bin/env node
// `skyboot-agent` from the repository: the bundle from `npm run build:cli` when fresh, else the
// TypeScript through tsx (launch.js). Installed sites run the single file from `npm run build:agent`.
import { launch } from './launch.js';

await launch('skyboot-agent', 'onprem-agent/cli/main.ts');

#!/usr/bin/env node
// The agent is TypeScript; tsx's loader lets `npx skyboot-agent` run it from the repo.
// Installed sites run the single-file bundle from `npm run build:agent` instead.
import { register } from 'tsx/esm/api';
register();
await import('../onprem-agent/cli/main.ts');

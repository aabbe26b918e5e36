#!/usr/bin/env node
// `skyboot`: the bundle from `npm run build:cli` when fresh, else the TypeScript through tsx (launch.js).
import { launch } from './launch.js';

await launch('skyboot', 'cli/main.ts');

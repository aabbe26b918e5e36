// Jest loads global setup outside its transform; tsx loads our TypeScript harness for it.
import { tsImport } from 'tsx/esm/api';

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const { default: awsSetup } = await tsImport('./awsEndpoints.ts', import.meta.url);

// The console tests load the built console from the gateway: build it when missing or stale,
// as `npm start` does.
export default async function setup(...args) {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('../../tools/ensureSetup.mjs', import.meta.url)), '--console'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`building the web console failed (node tools/ensureSetup.mjs --console exited ${r.status})`);
  return awsSetup(...args);
}

/**
 * An offline GraphQL IDE: GraphiQL and React served from node_modules, never from a CDN,
 * because sites and labs often have no internet. The token field sends the bearer header.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

// Packages' `exports` hide their UMD builds from require.resolve; their package.json is public.
function packageFile(pkg: string, file: string): string {
  return join(dirname(require.resolve(`${pkg}/package.json`)), file);
}

const IDE_ASSETS: Record<string, { pkg: string; file: string; type: string }> = {
  'react.js': { pkg: 'react', file: 'umd/react.production.min.js', type: 'text/javascript' },
  'react-dom.js': { pkg: 'react-dom', file: 'umd/react-dom.production.min.js', type: 'text/javascript' },
  'graphiql.js': { pkg: 'graphiql', file: 'dist/index.umd.js', type: 'text/javascript' },
  'graphiql.css': { pkg: 'graphiql', file: 'graphiql.min.css', type: 'text/css' },
};

const cache = new Map<string, Buffer>();

export function ideAsset(name: string): { body: Buffer; type: string } | undefined {
  const asset = IDE_ASSETS[name];
  if (!asset) return undefined;
  let body = cache.get(name);
  if (!body) {
    body = readFileSync(packageFile(asset.pkg, asset.file));
    cache.set(name, body);
  }
  return { body, type: asset.type };
}

export function ideHtml(endpoint: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8"><title>Skyboot GraphQL</title>
<link rel="stylesheet" href="/ide/assets/graphiql.css">
<style>body{margin:0;height:100vh;display:flex;flex-direction:column;font-family:sans-serif}#bar{padding:6px;background:#1b2240;color:#fff;display:flex;gap:8px;align-items:center}#bar input{flex:1;font-family:monospace}#ide{flex:1}</style>
</head>
<body>
<div id="bar"><b>Skyboot</b><label for="token">Bearer token</label><input id="token" placeholder="paste the output of: npx skyboot token"></div>
<div id="ide"></div>
<script src="/ide/assets/react.js"></script>
<script src="/ide/assets/react-dom.js"></script>
<script src="/ide/assets/graphiql.js"></script>
<script>
const input = document.getElementById('token');
input.value = localStorage.getItem('skyboot.token') || '';
input.addEventListener('change', () => localStorage.setItem('skyboot.token', input.value.trim()));
const fetcher = async (params) => {
  const res = await fetch(${JSON.stringify(endpoint)}, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer ' + input.value.trim() },
    body: JSON.stringify(params),
  });
  return res.json();
};
ReactDOM.createRoot(document.getElementById('ide')).render(React.createElement(GraphiQL, { fetcher }));
</script>
</body>
</html>`;
}

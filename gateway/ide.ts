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

/** Where the page keeps the token: this tab's sessionStorage, shared with the console (same origin). */
export const IDE_TOKEN_KEY = 'skyboot.token';

/**
 * The IDE page. The token lives in a password field (never shown in clear text) and in this
 * tab's sessionStorage, where the console's login (/console, authorization code + PKCE) also
 * leaves it, so a person logged in there lands here logged in. The schema is fetched only once
 * a token exists (in the field or as an Authorization header in the Headers tab), and again
 * whenever it changes; headers from the Headers tab are sent with every request and win over
 * the field.
 */
export function ideHtml(endpoint: string, opts: { loginUrl?: string } = {}): string {
  const login = opts.loginUrl ? `<a id="login" href="${opts.loginUrl}" style="color:#9cf">Log in</a>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8"><title>Skyboot GraphQL</title>
<link rel="stylesheet" href="/ide/assets/graphiql.css">
<style>body{margin:0;height:100vh;display:flex;flex-direction:column;font-family:sans-serif}#bar{padding:6px;background:#1b2240;color:#fff;display:flex;gap:8px;align-items:center}#bar input{flex:1;font-family:monospace}#ide{flex:1}</style>
</head>
<body>
<div id="bar"><b>Skyboot</b><label for="token">Bearer token</label><input id="token" type="password" autocomplete="off" spellcheck="false" placeholder="log in, or paste the output of: npx skyboot token">${login}<span id="token-state"></span></div>
<div id="ide"></div>
<script src="/ide/assets/react.js"></script>
<script src="/ide/assets/react-dom.js"></script>
<script src="/ide/assets/graphiql.js"></script>
<script>
const TOKEN_KEY = ${JSON.stringify(IDE_TOKEN_KEY)};
const input = document.getElementById('token');
const state = document.getElementById('token-state');
input.value = sessionStorage.getItem(TOKEN_KEY) || '';
// GraphiQL keeps the Headers tab in localStorage; an Authorization header there counts as a token.
const headerAuthorization = (text) => {
  try { return Object.keys(JSON.parse(text || '{}')).some((k) => k.toLowerCase() === 'authorization'); } catch { return false; }
};
let headersText = localStorage.getItem('graphiql:headers') || '';
const root = ReactDOM.createRoot(document.getElementById('ide'));
function render() {
  const token = input.value.trim();
  state.textContent = token ? 'token set (' + token.length + ' characters)' : 'no token';
  // A new fetcher per token makes GraphiQL introspect again with it.
  const fetcher = async (params, opts) => {
    const headers = { 'content-type': 'application/json' };
    if (token) headers.authorization = 'Bearer ' + token;
    for (const [k, v] of Object.entries((opts && opts.headers) || {})) {
      if (k.toLowerCase() === 'authorization') delete headers.authorization;
      headers[k] = String(v);
    }
    const res = await fetch(${JSON.stringify(endpoint)}, { method: 'POST', headers, body: JSON.stringify(params) });
    return res.json();
  };
  const haveToken = Boolean(token) || headerAuthorization(headersText);
  root.render(React.createElement(GraphiQL, {
    fetcher,
    // null: no introspection until there is something to authenticate it with.
    schema: haveToken ? undefined : null,
    shouldPersistHeaders: true,
    onEditHeaders: (text) => {
      const had = headerAuthorization(headersText);
      headersText = text;
      if (headerAuthorization(text) !== had) render();
    },
  }));
}
let last = input.value.trim();
input.addEventListener('input', () => {
  const token = input.value.trim();
  if (token === last) return;
  last = token;
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
  render();
});
render();
</script>
</body>
</html>`;
}

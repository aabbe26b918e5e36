/**
 * The console's start: read config.json, finish a login redirect if this is one, else send a
 * person without a token to the provider's login page, then show the app.
 */
import { createRoot } from 'react-dom/client';
import { loadConfig } from './config.js';
import { currentToken, finishLogin, logout, startLogin } from './auth.js';
import { configureApi } from './api.js';
import { App } from './App.js';
import './styles.css';

const root = createRoot(document.getElementById('root')!);

async function start(): Promise<void> {
  const config = await loadConfig();
  const next = await finishLogin(config);
  if (next?.startsWith('/')) {
    // A login the IDE asked for: the token is in this tab's sessionStorage, which the IDE reads.
    location.assign(next);
    return;
  }
  if (next) location.hash = next;
  const askedFor = new URLSearchParams(location.search).get('next');
  if (!currentToken()) {
    await startLogin(config, askedFor ?? (location.hash || '#/'));
    return;
  }
  if (askedFor?.startsWith('/')) {
    location.assign(askedFor);
    return;
  }
  configureApi(new URL(config.api, document.baseURI).href, () => {
    logout();
    void startLogin(config, location.hash || '#/');
  });
  root.render(<App onLogout={() => { logout(); void startLogin(config, '#/'); }} />);
}

start().catch((err: Error) => {
  root.render(<p className="error" role="alert">{err.name}: {err.message}</p>);
});

/** Hash routes (#/nodes, #/nodes/<xname>?site=, #/sessions/<id>): a static bucket serves one index.html for all of them. */
import { useEffect, useState } from 'react';

export type Route =
  | { page: 'overview' }
  | { page: 'nodes'; state: string | null; q: string }
  // An xname names a node within its site (two sites may both have x1000c0s0b0n0).
  | { page: 'node'; xname: string; site: string | null }
  | { page: 'images' }
  | { page: 'power' }
  | { page: 'sessions' }
  | { page: 'session'; id: string };

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const q = new URLSearchParams(query);
  if (parts[0] === 'nodes' && parts[1]) return { page: 'node', xname: parts[1], site: q.get('site') };
  if (parts[0] === 'nodes') return { page: 'nodes', state: q.get('state'), q: q.get('q') ?? '' };
  if (parts[0] === 'images') return { page: 'images' };
  if (parts[0] === 'power') return { page: 'power' };
  if (parts[0] === 'sessions' && parts[1]) return { page: 'session', id: parts[1] };
  if (parts[0] === 'sessions') return { page: 'sessions' };
  return { page: 'overview' };
}

export function href(route: Route): string {
  switch (route.page) {
    case 'overview':
      return '#/';
    case 'nodes': {
      const q = new URLSearchParams();
      if (route.state) q.set('state', route.state);
      if (route.q) q.set('q', route.q);
      const s = q.toString();
      return `#/nodes${s ? `?${s}` : ''}`;
    }
    case 'node':
      return `#/nodes/${encodeURIComponent(route.xname)}${route.site ? `?site=${encodeURIComponent(route.site)}` : ''}`;
    case 'session':
      return `#/sessions/${encodeURIComponent(route.id)}`;
    default:
      return `#/${route.page}`;
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

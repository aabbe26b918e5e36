/** Hash routes (#/nodes, #/nodes/<xname>): a static bucket serves one index.html for all of them. */
import { useEffect, useState } from 'react';

export type Route =
  | { page: 'overview' }
  | { page: 'nodes'; state: string | null; q: string }
  | { page: 'node'; xname: string }
  | { page: 'images' }
  | { page: 'power' };

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const q = new URLSearchParams(query);
  if (parts[0] === 'nodes' && parts[1]) return { page: 'node', xname: parts[1] };
  if (parts[0] === 'nodes') return { page: 'nodes', state: q.get('state'), q: q.get('q') ?? '' };
  if (parts[0] === 'images') return { page: 'images' };
  if (parts[0] === 'power') return { page: 'power' };
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
      return `#/nodes/${encodeURIComponent(route.xname)}`;
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

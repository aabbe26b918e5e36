import { useRoute, href, type Route } from './router.js';
import { Overview } from './pages/Overview.js';
import { Nodes } from './pages/Nodes.js';
import { Node } from './pages/Node.js';
import { Images } from './pages/Images.js';
import { Power } from './pages/Power.js';
import { Sessions } from './pages/Sessions.js';
import { Session } from './pages/Session.js';

const NAV: { label: string; route: Route }[] = [
  { label: 'Overview', route: { page: 'overview' } },
  { label: 'Nodes', route: { page: 'nodes', state: null, q: '' } },
  { label: 'Sessions', route: { page: 'sessions' } },
  { label: 'Images', route: { page: 'images' } },
  { label: 'Power', route: { page: 'power' } },
];

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'overview':
      return <Overview />;
    case 'nodes':
      return <Nodes key={route.state ?? ''} state={route.state} q={route.q} />;
    case 'node':
      return <Node xname={route.xname} site={route.site} />;
    case 'images':
      return <Images />;
    case 'power':
      return <Power />;
    case 'sessions':
      return <Sessions />;
    case 'session':
      return <Session id={route.id} />;
  }
}

export function App({ onLogout }: { onLogout: () => void }) {
  const route = useRoute();
  const active = route.page === 'node' ? 'nodes' : route.page === 'session' ? 'sessions' : route.page;
  return (
    <div className="app">
      <header>
        <b>Skyboot</b>
        <nav>
          {NAV.map((n) => (
            <a key={n.label} href={href(n.route)} className={n.route.page === active ? 'active' : ''}>{n.label}</a>
          ))}
          <a href="../graphql">GraphQL</a>
        </nav>
        <button onClick={onLogout}>Log out</button>
      </header>
      <main>
        <Page route={route} />
      </main>
    </div>
  );
}

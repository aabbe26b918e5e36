/**
 * The site at a glance: nodes per state and per role (counted over every node, page by page,
 * shown as the pages arrive), the sites, and the images by status.
 */
import { useEffect, useState } from 'react';
import { overviewBasics, statePage, STATES } from '../queries.js';
import { useLoad } from '../useQuery.js';
import { href } from '../router.js';

interface Tally {
  byState: Record<string, number>;
  byRole: Record<string, number>;
  total: number;
  done: boolean;
  error: string | null;
}

function useNodeTally(): Tally {
  const [tally, setTally] = useState<Tally>({ byState: {}, byRole: {}, total: 0, done: false, error: null });
  useEffect(() => {
    let live = true;
    (async () => {
      const byState: Record<string, number> = {};
      const byRole: Record<string, number> = {};
      let total = 0;
      let after: string | null = null;
      for (;;) {
        const page = await statePage(after);
        if (!live) return;
        for (const { node } of page.edges) {
          byState[node.state] = (byState[node.state] ?? 0) + 1;
          const role = node.role ?? '(none)';
          byRole[role] = (byRole[role] ?? 0) + 1;
          total += 1;
        }
        const done = !page.pageInfo.hasNextPage;
        setTally({ byState: { ...byState }, byRole: { ...byRole }, total, done, error: null });
        if (done) return;
        after = page.pageInfo.endCursor;
      }
    })().catch((err: Error) => live && setTally((t) => ({ ...t, done: true, error: err.message })));
    return () => {
      live = false;
    };
  }, []);
  return tally;
}

export function Overview() {
  const basics = useLoad(overviewBasics, 'overview');
  const tally = useNodeTally();
  const images = basics.status === 'ok' ? basics.data.images.edges.map((e) => e.node) : [];
  const imagesByStatus = images.reduce<Record<string, number>>((acc, i) => ({ ...acc, [i.status]: (acc[i.status] ?? 0) + 1 }), {});
  return (
    <section className="overview">
      <h1>Overview</h1>
      {basics.status === 'error' && <p className="error" role="alert">{basics.error.message}</p>}
      <div className="cards">
        <div className="card" data-testid="nodes-by-state">
          <h2>Nodes by state</h2>
          <p className="big" data-testid="node-total" data-done={tally.done ? 'true' : 'false'}>
            {tally.total.toLocaleString('en')} nodes{tally.done ? '' : ' (counting…)'}
          </p>
          <table>
            <tbody>
              {STATES.filter((s) => tally.byState[s]).map((s) => (
                <tr key={s}>
                  <td><a href={href({ page: 'nodes', state: s, q: '' })}><span className={`state state-${s}`}>{s}</span></a></td>
                  <td className="num">{tally.byState[s]!.toLocaleString('en')}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {tally.error && <p className="error">{tally.error}</p>}
        </div>
        <div className="card">
          <h2>Nodes by role</h2>
          <table>
            <tbody>
              {Object.entries(tally.byRole).sort().map(([role, n]) => (
                <tr key={role}><td>{role}</td><td className="num">{n.toLocaleString('en')}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
        <div className="card">
          <h2>Sites</h2>
          <ul>
            {basics.status === 'ok' && basics.data.sites.map((s) => <li key={s.name}><b>{s.name}</b> {s.description ?? ''}</li>)}
          </ul>
        </div>
        <div className="card">
          <h2>Images</h2>
          <table>
            <tbody>
              {Object.entries(imagesByStatus).map(([status, n]) => (
                <tr key={status}><td>{status}</td><td className="num">{n}</td></tr>
              ))}
            </tbody>
          </table>
          <a href={href({ page: 'images' })}>all images</a>
        </div>
      </div>
    </section>
  );
}

/**
 * Power requests made from this browser tab (the API reads a request by id; it has no list),
 * each re-read until the site's agent has run it, and any request looked up by id.
 */
import { useEffect, useState } from 'react';
import { powerRequest, type PowerRequestRow } from '../queries.js';

const KEY = 'skyboot.console.powerRequests';

export function rememberPowerRequest(id: string): void {
  const ids = knownIds().filter((x) => x !== id);
  sessionStorage.setItem(KEY, JSON.stringify([id, ...ids].slice(0, 50)));
}

function knownIds(): string[] {
  return JSON.parse(sessionStorage.getItem(KEY) ?? '[]') as string[];
}

export function Power() {
  const [rows, setRows] = useState<Record<string, PowerRequestRow | string>>({});
  const [lookup, setLookup] = useState('');
  const [ids, setIds] = useState(knownIds);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      const next: Record<string, PowerRequestRow | string> = {};
      await Promise.all(ids.map(async (id) => {
        try {
          next[id] = (await powerRequest(id)) ?? 'not found';
        } catch (err) {
          next[id] = (err as Error).message;
        }
      }));
      if (!live) return;
      setRows(next);
      if (Object.values(next).some((r) => typeof r !== 'string' && r.status !== 'DONE')) timer = setTimeout(() => void poll(), 2000);
    };
    void poll();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [ids]);
  return (
    <section className="power">
      <h1>Power requests</h1>
      <form onSubmit={(e) => {
        e.preventDefault();
        if (!lookup.trim()) return;
        rememberPowerRequest(lookup.trim());
        setIds(knownIds());
      }}>
        <label>Request id <input value={lookup} onChange={(e) => setLookup(e.target.value)} /></label> <button type="submit">Look up</button>
      </form>
      {ids.length === 0 && <p>No power requests from this tab yet: request one on a node's page.</p>}
      <table className="list">
        <thead><tr><th>Id</th><th>Action</th><th>Nodes</th><th>Status</th><th>By</th><th>Created</th><th>Results</th></tr></thead>
        <tbody>
          {ids.map((id) => {
            const r = rows[id];
            if (!r || typeof r === 'string') return <tr key={id}><td>{id}</td><td colSpan={6}>{r ?? 'loading…'}</td></tr>;
            return (
              <tr key={id} data-status={r.status}>
                <td>{r.id}</td><td>{r.action}</td><td>{r.xnames.join(', ')}</td><td>{r.status}</td><td>{r.requestedBy}</td><td>{r.createdAt}</td>
                <td>{r.results.map((x) => `${x.xname}: ${x.ok ? x.powerState ?? 'ok' : x.error ?? 'failed'}`).join('; ')}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
